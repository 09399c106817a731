"""Engine-specific code, kept small and isolated: line splitting, header reading, the SQL runner."""
