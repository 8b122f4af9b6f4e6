//! Behaviour suite.
