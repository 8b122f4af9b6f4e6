//! HTTP core
