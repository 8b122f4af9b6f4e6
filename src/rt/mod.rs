//! TODO(#2): rt
