//! Builds the first-party platform plugins for wasm32-wasip2 and embeds
//! them in the binary, so `plaza serve` offers every one of them with no
//! plugins folder (`src/plugins/builtin.rs` loads them).

include!("../build-support/wasm_plugins.rs");

/// Plugin id and crate of every first-party plugin, in the order they load.
const FIRST_PARTY: [(&str, &str); 8] = [
    ("bluesky", "plaza-plugin-bluesky"),
    ("discord", "plaza-plugin-discord"),
    ("feeds", "plaza-plugin-feeds"),
    ("mastodon", "plaza-plugin-mastodon"),
    ("matrix", "plaza-plugin-matrix"),
    ("telegram", "plaza-plugin-telegram"),
    ("webhook", "plaza-plugin-webhook"),
    ("wordpress", "plaza-plugin-wordpress"),
];

fn main() {
    // `embed_migrations!` reads this folder when the crate compiles; a new
    // migration must recompile it.
    println!("cargo:rerun-if-changed=../migrations");
    let crates: Vec<&str> = FIRST_PARTY.iter().map(|(_, name)| *name).collect();
    let dir = build_wasm_plugins(&crates);
    let mut list = String::from("&[\n");
    for (id, name) in FIRST_PARTY {
        let wasm = dir.join(format!("{}.wasm", name.replace('-', "_")));
        list.push_str(&format!(
            "    ({id:?}, include_bytes!({:?})),\n",
            wasm.display().to_string()
        ));
    }
    list.push(']');
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(err) = std::fs::write(out.join("builtin_plugins.rs"), list) {
        println!("cargo::error=writing the built-in plugin list failed: {err}");
    }
}
