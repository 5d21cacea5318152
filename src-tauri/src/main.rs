// No console window on Windows release builds; logs still go to stderr elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    vetdesk_desktop::main()
}
