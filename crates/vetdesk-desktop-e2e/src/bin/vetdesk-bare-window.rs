//! The baseline of the desktop start-up benchmark: a Tauri 2 window showing one
//! static page (`bare-page/`), with no commands, plugins or application state.
//! Whatever the real app costs beyond this is vetdesk's own.

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("vetdesk-bare-window: {e}");
        std::process::exit(1);
    }
}
