// Shared by `api/build.rs` and `tests/build.rs` (through `include!`): builds
// plugin crates of this workspace for wasm32-wasip2 with a nested cargo.
//
// The nested build gets its own target folder (the outer build holds the
// lock on the usual one): `PLAZA_WASM_TARGET_DIR`, else `wasm-plugins`
// inside `CARGO_TARGET_DIR` (or `target/`). Checkouts that share a
// `CARGO_TARGET_DIR` set `PLAZA_WASM_TARGET_DIR` apart so they do not
// overwrite each other's `.wasm` files.

/// Builds `crates` (package names) in release for wasm32-wasip2 and answers
/// the folder holding their `.wasm` files. A failed build is reported as a
/// build error (`cargo::error`); the folder is still answered.
fn build_wasm_plugins(crates: &[&str]) -> std::path::PathBuf {
    use std::path::PathBuf;

    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir.parent().map(PathBuf::from).unwrap_or_default();
    for watched in ["sdk", "plugins", "Cargo.lock", "build-support"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=PLAZA_WASM_TARGET_DIR");
    let target_dir = std::env::var_os("PLAZA_WASM_TARGET_DIR").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| root.join("target"), PathBuf::from)
                .join("wasm-plugins")
        },
        PathBuf::from,
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for name in crates {
        build.args(["-p", name]);
    }
    // The outer build's flags are for the host, not for wasm.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        build.env_remove(var);
    }
    let status = build.status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        println!("cargo::error=building plugins for wasm32-wasip2 failed ({status:?})");
    }
    target_dir.join("wasm32-wasip2").join("release")
}
