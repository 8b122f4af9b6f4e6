//! [`RequestWriter::for_url`]: a writer set up from a server URL.
//!
//! The writer itself is sans-IO and lives in `proto::http` (public at
//! [`rest::RequestWriter`](super::RequestWriter)); only this constructor stays here, because
//! it parses the URL with the connection layer's `Target`.

use super::error::RestError;
use crate::proto::http::writer::RequestWriter;

impl RequestWriter {
    /// A writer for the server of `url` (`http://` or `https://`): the `Host` header comes
    /// from its host and port, the base path from its path.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidUrl`] when `url` cannot be parsed or has no host.
    pub fn for_url(url: &str) -> Result<Self, RestError> {
        let target = crate::connect::Target::parse_http(url)?;
        let mut writer = Self::new(&target.host_header())?;
        writer.set_base_path(&target.path)?;
        Ok(writer)
    }
}

#[cfg(test)]
mod tests;
