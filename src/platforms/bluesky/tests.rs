//! Fake-server tests of the Bluesky client.
