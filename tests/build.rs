//! Builds the plugins the end-to-end tests load for wasm32-wasip2, so
//! `cargo test` alone produces real `.wasm` components. They go to their own
//! target folder (the outer build holds the lock on the usual one).

use std::path::PathBuf;
use std::process::Command;

const PLUGINS: [&str; 5] = [
    "plaza-plugin-template",
    "plaza-plugin-misbehaving",
    "plaza-plugin-matrix",
    "plaza-plugin-webhook",
    "plaza-plugin-feeds",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir.parent().map(PathBuf::from).unwrap_or_default();
    for watched in ["sdk", "plugins", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // `PLAZA_WASM_TARGET_DIR` puts the plugins' build elsewhere, so
    // checkouts sharing one `CARGO_TARGET_DIR` do not overwrite each
    // other's `.wasm` files.
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
    let mut build = Command::new(cargo);
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
    for plugin in PLUGINS {
        build.args(["-p", plugin]);
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
        println!("cargo::error=building the test plugins for wasm32-wasip2 failed ({status:?})");
    }
    let out = target_dir.join("wasm32-wasip2").join("release");
    println!("cargo:rustc-env=PLAZA_TEST_PLUGINS_DIR={}", out.display());
}
