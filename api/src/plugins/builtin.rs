//! The first-party platform plugins, built for wasm32-wasip2 by
//! `api/build.rs` and embedded in the binary: `plaza serve` offers every one
//! of them with no plugins folder. A plugin of the same id in `plugins_dir`
//! or uploaded later replaces the built-in one.

/// Plugin id and component bytes of every built-in plugin.
pub static PLUGINS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The ids of the built-in plugins.
pub fn ids() -> impl Iterator<Item = &'static str> {
    PLUGINS.iter().map(|(id, _)| *id)
}
