//! The behaviour suite of nexus-async-net, written once and instantiated on every executor:
//! tokio (multi-thread and current-thread), smol, async-std and a minimal custom executor
//! (`tests/*.rs`, one line each).
//!
//! Each behaviour is an `async fn(Runtime) -> anyhow::Result<()>` named as a sentence. The
//! peers it talks to are in [`servers`]: they bind loopback only and stop by themselves.
#![allow(missing_docs)]

pub mod executors;
pub mod feed;
pub mod gateway;
pub mod halves;
pub mod hostile;
pub mod mem;
pub mod pool;
pub mod proxy;
pub mod rest;
pub mod servers;
pub mod ws;

/// Declares one `#[test]` per behaviour of a suite module, run on executor `$exec`.
#[macro_export]
macro_rules! tests_for {
    ($exec:ty, $module:ident : [$($name:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $name() {
                    <$exec as $crate::executors::Executor>::run(|rt| $crate::$module::$name(rt));
                }
            )*
        }
    };
}

/// Declares two `#[test]`s per pool behaviour, one per pool, run on the calling thread of
/// executor `$exec` (`ClientPool` is `!Send`).
#[macro_export]
macro_rules! pool_tests_for {
    ($exec:ty: [$($name:ident),* $(,)?]) => {
        mod pool {
            mod local {
                $(
                    #[test]
                    fn $name() {
                        <$exec as $crate::executors::Executor>::run_local(|rt| {
                            $crate::pool::$name::<nexus_async_net::rest::ClientPool>(rt)
                        });
                    }
                )*
            }
            mod atomic {
                $(
                    #[test]
                    fn $name() {
                        <$exec as $crate::executors::Executor>::run_local(|rt| {
                            $crate::pool::$name::<nexus_async_net::rest::AtomicClientPool>(rt)
                        });
                    }
                )*

                /// Runs as a spawned, `Send` task, sharing the pool with spawned tasks.
                #[test]
                fn is_shared_by_concurrent_tasks() {
                    <$exec as $crate::executors::Executor>::run(
                        $crate::pool::atomic_pool_is_shared_by_concurrent_tasks,
                    );
                }
            }
        }
    };
}

/// Instantiates the whole behaviour suite on executor `$exec`.
#[macro_export]
macro_rules! behaviour_suite {
    ($exec:ty) => {
        $crate::tests_for!($exec, ws: [
            client_echoes_text_and_binary_of_many_sizes,
            ping_payload_is_delivered_and_can_be_answered,
            auto_pong_answers_pings,
            peer_close_is_echoed_and_then_recv_returns_none,
            close_waits_for_the_peer_close,
            oversized_message_closes_with_1009,
            frames_sent_with_the_101_are_kept,
            handshake_carries_headers_and_negotiates_a_subprotocol,
            bad_upgrades_get_400_and_426,
            connect_timeout_covers_a_silent_server,
            a_refused_oversized_send_reports_the_peers_close,
            accept_timeout_cuts_off_a_slowloris_client,
            tls_echo_carries_large_messages_both_ways,
            split_halves_send_and_receive_concurrently,
            split_reader_answers_pings_while_writer_idles,
            sink_feeds_are_all_flushed_and_stream_yields_owned,
            accept_and_connect_talk_to_each_other,
            ipv6_loopback_url_connects,
            reset_mid_frame_is_an_io_error,
            connect_with_runs_the_upgrade_over_a_caller_stream,
            heartbeat_fails_recv_when_pongs_stop,
            idle_timeout_detects_a_silent_peer,
            busy_poll_echoes_and_parks_once_the_budget_runs_out,
            listener_accepts_and_upgrades_concurrent_clients,
            listener_reports_a_bad_client_and_a_silent_one_blocks_nobody,
            listener_upgrades_tls_clients,
        ]);
        $crate::tests_for!($exec, proxy: [
            ws_wss_and_rest_go_through_an_http_connect_proxy,
            a_proxy_refusal_is_a_typed_error_with_its_status,
            a_tls_proxy_carries_wss_and_custom_headers_reach_the_proxy,
            bytes_the_proxy_sent_after_its_response_are_kept,
            socks5_and_socks5h_tunnel_with_credentials,
            socks5_refusals_and_a_silent_proxy_are_typed_errors,
            env_rules_pick_the_proxy_and_no_proxy_bypasses_it,
            real_http_and_socks5_proxies_carry_ws_and_rest,
        ]);
        $crate::tests_for!($exec, feed: [
            feed_reconnects_resubscribes_and_reports_every_gap,
            feed_fails_over_past_refused_garbage_and_503,
            feed_declares_a_silent_connection_stale_despite_pings,
            feed_stops_at_once_on_a_403_or_a_rejected_certificate,
            feed_shutdown_from_another_task_closes_with_1000,
            feed_backoff_follows_the_schedule_on_a_virtual_clock,
            feed_honours_retry_after_on_429,
        ]);
        $crate::tests_for!($exec, gateway: [
            broadcast_reaches_every_client_once_in_order,
            a_client_that_stops_reading_stays_bounded_and_delays_no_one,
            a_lagging_client_is_closed_with_its_code,
            reuse_port_shards_each_accept_their_share,
        ]);
        $crate::tests_for!($exec, halves: [
            a_protocol_error_gives_the_same_error_and_close_on_both_shapes,
            the_peer_close_is_echoed_the_same_on_both_shapes,
            close_gives_up_after_the_close_timeout_on_both_shapes,
            sink_and_stream_work_the_same_on_both_shapes,
        ]);
        $crate::tests_for!($exec, rest: [
            keep_alive_reuses_one_connection_for_many_requests,
            post_sends_headers_and_body_with_content_length,
            chunked_body_with_extensions_and_trailers_is_decoded,
            http10_close_delimited_body_is_read_and_retires_the_connection,
            connection_close_retires_the_connection_without_writing_again,
            continue_100_before_the_final_response_is_skipped,
            no_body_is_read_for_204_304_and_head,
            truncated_body_is_a_typed_error_and_poisons,
            reset_mid_response_is_an_io_error_and_poisons,
            malformed_status_line_is_a_parse_error_and_poisons,
            oversize_head_is_head_too_large,
            oversize_body_is_body_too_large_with_bounded_memory,
            body_larger_than_the_initial_buffer_grows_the_reader,
            invalid_chunk_size_line_is_a_parse_error,
            silent_server_gives_read_timeout_and_poisons,
            send_timeout_bounds_one_request_and_leaves_the_read_timeout_alone,
            body_trickling_slower_than_the_read_timeout_times_out,
            cancelled_send_poisons_the_connection,
            keep_alive_closed_by_the_server_is_reported_stale,
            idle_connection_closed_by_the_server_is_stale_and_nothing_is_written,
            keep_alive_reset_before_the_response_is_reported_stale,
            reset_mid_body_on_a_reused_connection_is_not_stale,
            invalid_url_and_refused_connection_are_errors,
            seed_request_sequence_compiles_and_runs,
            https_requests_run_over_tls_with_a_custom_ca,
            https_with_an_untrusted_certificate_is_a_tls_error,
            connect_timeout_covers_a_server_that_never_finishes_tls,
            busy_poll_reads_responses_and_never_spins_on_the_idle_check,
        ]);
        $crate::pool_tests_for!($exec: [
            build_opens_every_slot_and_try_acquire_is_lifo,
            server_killed_and_restarted_heals_every_slot,
            accept_then_close_is_a_typed_error_and_the_slot_heals,
            reset_mid_response_poisons_and_the_slot_heals,
            black_hole_gives_read_timeout_and_the_slot_heals,
            connection_close_every_third_response_never_reaches_the_caller,
            all_slots_poisoned_at_once_heal_concurrently,
            dropping_the_pool_stops_healing,
            returned_slots_wake_waiting_acquires_with_no_timer,
            acquire_times_out_with_a_typed_error,
            without_a_spawner_acquire_heals_inline,
            idle_timeout_replaces_an_unused_connection,
            bad_options_fail_before_connecting,
            pool_over_tls_with_a_custom_ca_closes_gracefully,
            heals_every_slot_through_a_proxy,
        ]);
        $crate::tests_for!($exec, hostile: [
            frame_claiming_2_pow_63_bytes_closes_with_1009,
            fragments_summing_past_the_limit_close_with_1009,
            one_hundred_thousand_one_byte_fragments_are_reassembled,
            invalid_utf8_at_every_position_closes_with_1007,
            invalid_utf8_in_a_whole_frame_closes_with_1007,
            oversized_handshake_response_is_refused,
            oversized_upgrade_request_gets_431,
            ping_flood_does_not_queue_pongs_without_limit,
        ]);
    };
}
