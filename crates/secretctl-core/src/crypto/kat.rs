//! Known-answer tests, filled in from the vector files under `tests/vectors/`.
