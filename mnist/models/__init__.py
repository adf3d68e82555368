"""The networks the app trains, built by kind from recorded settings (registry), and rebuilt from checkpoints."""
