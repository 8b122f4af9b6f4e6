//! [`connect_setters!`]: the connect setters of every builder, written once.

/// Expands, inside a builder's `impl`, the setters that delegate to its embedded
/// [`ConnectOptions`](crate::connect::ConnectOptions) field (`$field`, or a path
/// `a.b` to a nested one): `tls`,
/// `disable_nagle`, `tcp_keepalive`, `busy_poll`, `connect_timeout`, `proxy`,
/// `proxy_from_env`, `runtime`,
/// `connect_options` and `get_connect_options`. The doc comments of `connect_timeout` and
/// `runtime` come from the caller (what they bound differs per builder).
macro_rules! connect_setters {
    (
        $($field:ident).+;
        $(#[$timeout_doc:meta])* connect_timeout;
        $(#[$runtime_doc:meta])* runtime;
    ) => {
        /// The TLS configuration for `wss://` / `https://` (build one
        /// [`TlsConfig`](crate::tls::TlsConfig) and share it: cloning is cheap). Without
        /// it, TLS uses a process-wide default with the built-in roots. A WebSocket
        /// server's `accept` takes the server side from it.
        #[cfg(feature = "tls")]
        #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
        pub fn tls(mut self, config: &$crate::tls::TlsConfig) -> Self {
            self.$($field).+ = self.$($field).+.tls(config);
            self
        }

        /// Sets `TCP_NODELAY` on every connection, so small messages leave at once:
        /// required for every latency-sensitive workload (default: Nagle on).
        pub fn disable_nagle(mut self) -> Self {
            self.$($field).+ = self.$($field).+.disable_nagle();
            self
        }

        /// Enables TCP keepalive probes after `idle` without traffic (default: the
        /// operating system's setting).
        pub fn tcp_keepalive(mut self, idle: ::std::time::Duration) -> Self {
            self.$($field).+ = self.$($field).+.tcp_keepalive(idle);
            self
        }

        /// Busy-polls reads for up to `budget` before parking on the reactor (default: park
        /// at once): replies and updates that arrive within the budget skip the reactor
        /// wake-up. The thread spins for the whole budget on every read that finds nothing,
        /// so use it on a thread dedicated to the hot path; see
        /// [`TcpStream::set_busy_poll`](crate::rt::TcpStream::set_busy_poll),
        /// `docs/busy-poll.md` and the example at
        /// [`ConnectOptions::busy_poll`](crate::connect::ConnectOptions::busy_poll).
        pub fn busy_poll(mut self, budget: ::std::time::Duration) -> Self {
            self.$($field).+ = self.$($field).+.busy_poll(budget);
            self
        }

        $(#[$timeout_doc])*
        pub fn connect_timeout(
            mut self,
            timeout: impl ::std::convert::Into<::std::option::Option<::std::time::Duration>>,
        ) -> Self {
            self.$($field).+ = self.$($field).+.connect_timeout(timeout);
            self
        }

        /// Connects through `proxy` (HTTP `CONNECT` or SOCKS5), for every target; see
        /// [`connect::proxy`](crate::connect::proxy). Default: no proxy.
        pub fn proxy(mut self, proxy: $crate::connect::Proxy) -> Self {
            self.$($field).+ = self.$($field).+.proxy(proxy);
            self
        }

        /// Connects through the proxies the environment names, as curl and reqwest read
        /// them (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`; read when this is
        /// called); directly when it names none. See
        /// [`connect::proxy`](crate::connect::proxy).
        pub fn proxy_from_env(mut self) -> Self {
            self.$($field).+ = self.$($field).+.proxy_from_env();
            self
        }

        $(#[$runtime_doc])*
        pub fn runtime(mut self, runtime: $crate::rt::Runtime) -> Self {
            self.$($field).+ = self.$($field).+.runtime(runtime);
            self
        }

        /// Replaces every connect option at once (socket options, connect timeout, TLS,
        /// runtime) with `options`.
        pub fn connect_options(mut self, options: $crate::connect::ConnectOptions) -> Self {
            self.$($field).+ = options;
            self
        }

        /// The connect options as set so far.
        pub fn get_connect_options(&self) -> &$crate::connect::ConnectOptions {
            &self.$($field).+
        }
    };
}

pub(crate) use connect_setters;
