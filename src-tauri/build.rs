//! Tauri's build step, with the app manifest that makes the commands below the
//! only ones the webview may call: capabilities gate core and plugin
//! permissions, not an app's own commands, so without this list every
//! registered command would be callable from any window.

// `COMMANDS`: every command the UI may invoke (shared with the crate).
include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=src/command_names.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
