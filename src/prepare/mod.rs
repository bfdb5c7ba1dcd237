//! The model-grid build (`haihe prepare`).
