// SPDX-License-Identifier: MIT
//! Nothing to link: the tests are in `tests/` (see `tests/compile_fail.rs`).
