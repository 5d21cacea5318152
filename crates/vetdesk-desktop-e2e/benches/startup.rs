//! The desktop start-up benchmark (filled in with the desktop app).
fn main() {}
