//! Instantiate + call + drop of a small plugin call, with and without the
//! pooling allocator, and the linear memory one call uses.
//!
//! `cargo bench -p plaza-tests --bench plugin_call`; figures in docs/benchmarks.md.
#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark stops on setup failure and prints its findings"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use plaza_api::plugins::bindings::Channel;
use plaza_api::plugins::{
    CallContext, PluginRegistry, PluginRuntime, PluginSource, RuntimeSettings,
};

const PLUGINS_DIR: &str = env!("PLAZA_TEST_PLUGINS_DIR");

fn registry(runtime: &tokio::runtime::Runtime, pooling: bool) -> PluginRegistry {
    let settings = RuntimeSettings {
        pooling,
        ..RuntimeSettings::default()
    };
    let registry = PluginRegistry::new(PluginRuntime::new(settings).expect("runtime"));
    let wasm = std::fs::read(format!("{PLUGINS_DIR}/plaza_plugin_misbehaving.wasm"))
        .expect("plugin built");
    runtime
        .block_on(registry.load(wasm, PluginSource::Directory))
        .expect("plugin loads");
    registry
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let mut group = c.benchmark_group("instantiate_call_drop");
    for pooling in [true, false] {
        let registry = registry(&runtime, pooling);
        let plugin = registry.get("misbehaving").expect("loaded");
        let run = || {
            let call = registry.runtime().prepare_call(
                "misbehaving",
                plugin.prepared(),
                &[],
                CallContext::default(),
                runtime.handle().clone(),
            );
            let channel = Channel {
                id: String::new(),
                config: "{}".to_owned(),
            };
            call.run(move |p, store| {
                p.plaza_plugin_platform()
                    .call_account_metrics(store, &channel)
            })
            .expect("call runs")
        };
        let ran = run();
        println!(
            "pooling={pooling}: one call's linear memory peaked at {} KiB",
            ran.peak_memory_bytes / 1024
        );
        let name = if pooling { "pooling" } else { "on_demand" };
        group.bench_function(name, |b| b.iter(|| black_box(run())));
        group.bench_function(format!("{name}_through_the_call_pool"), |b| {
            b.iter(|| {
                runtime
                    .block_on(registry.account_metrics(&plugin, CallContext::default()))
                    .expect("call")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
