//! The response reader is sans-IO and lives in `proto::http` (public at
//! [`rest::ResponseReader`](super::ResponseReader)); this module only re-exports it for
//! the `rest` modules that import it from here.

pub(crate) use crate::proto::http::reader::{DEFAULT_RESPONSE_BUFFER_CAPACITY, ResponseReader};
