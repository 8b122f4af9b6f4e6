//! TODO(#2): proto
