"""One module per command. Keep module-level imports light: no cloud SDKs here."""
