//! Builds the plugins only the tests load (the template and a plugin that
//! misbehaves on purpose) for wasm32-wasip2, so `cargo test` alone produces
//! real `.wasm` components. The first-party platform plugins come built into
//! `plaza-api` itself (`api/build.rs`).

include!("../build-support/wasm_plugins.rs");

const PLUGINS: [&str; 2] = ["plaza-plugin-template", "plaza-plugin-misbehaving"];

fn main() {
    let built = build_wasm_plugins(&PLUGINS);
    // The build folder also holds the first-party plugins (`api/build.rs`
    // builds there too): the tests' folder gets only these two.
    let dir =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("plugins");
    let copied = std::fs::create_dir_all(&dir).and_then(|()| {
        PLUGINS.iter().try_for_each(|name| {
            let file = format!("{}.wasm", name.replace('-', "_"));
            std::fs::copy(built.join(&file), dir.join(&file)).map(drop)
        })
    });
    if let Err(err) = copied {
        println!("cargo::error=copying the test plugins failed: {err}");
    }
    println!("cargo:rustc-env=PLAZA_TEST_PLUGINS_DIR={}", dir.display());
}
