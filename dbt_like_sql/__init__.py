"""The business rules as SQL models (one file per table) and macros; shipped as package data."""
