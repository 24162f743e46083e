"""reader-survey: self-hosted reader-feedback surveys for blogs."""

__version__ = "0.1.0"
