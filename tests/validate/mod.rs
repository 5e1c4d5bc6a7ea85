//! Real-tool validators (being written).
