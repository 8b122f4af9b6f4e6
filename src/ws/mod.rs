//! TODO(#2): ws
