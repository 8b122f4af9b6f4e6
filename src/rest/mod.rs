//! TODO(#2): rest
