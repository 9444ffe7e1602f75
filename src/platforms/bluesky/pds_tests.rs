//! The Bluesky client against a real PDS on loopback.
