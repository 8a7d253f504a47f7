"""HTTP and WebSocket endpoints, one module per kind of page; each exports ``routes``."""
