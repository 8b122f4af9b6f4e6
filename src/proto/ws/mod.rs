//! WebSocket core
