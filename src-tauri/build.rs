//! Tauri's build step, with the app manifest that makes the commands below the
//! only ones the webview may call: capabilities gate core and plugin
//! permissions, not an app's own commands, so without this list every
//! registered command would be callable from any window.

/// Every command the UI may invoke. Keep in step with `commands::COMMANDS`
/// (a test compares them) and with `capabilities/main.json`.
const COMMANDS: &[&str] = &[
    "login",
    "logout",
    "me",
    "health",
    "calendar",
    "availability",
    "check_conflicts",
    "book",
    "get",
    "confirm",
    "check_in",
    "start",
    "complete",
    "no_show",
    "cancel",
    "reschedule",
    "list_clinics",
    "list_vets",
    "list_clients",
    "get_client",
    "create_client",
    "update_client",
    "list_pets",
    "create_pet",
    "update_pet",
    "list_types",
    "create_type",
    "update_type",
    "list_hours",
    "create_hours",
    "delete_hours",
    "list_time_off",
    "create_time_off",
    "delete_time_off",
    "desktop_status",
    "seed_demo",
    "save_database",
];

fn main() {
    println!("cargo:rerun-if-changed=capabilities");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
