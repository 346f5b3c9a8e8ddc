"""One module per telemetry source; each imports its third-party library only when opened."""
