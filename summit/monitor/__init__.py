"""The Monitor: partner agreement and responses, the Monitor group, progress, notifications,
open data and the whole public record."""
