//! Throughput of sentiment scoring and language detection on realistic ~150-char posts.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use plaza_api::domain::language::detect_language;
use plaza_api::domain::sentiment::{LexiconScorer, SentimentScorer};

const TEXTS: &[&str] = &[
    "@plaza_shop hola, llevo 2 semanas esperando mi pedido y nadie me responde, pesimo servicio 😡 #fail https://t.co/abc",
    "Just got my order from @brand and honestly it's sooo good!!! Best purchase this year 😍 thanks for the fast shipping",
    "¿Alguien sabe si la tienda del centro abre el domingo? Quiero ir a ver las nuevas zapatillas que sacaron esta semana",
    "The app keeps crashing every time I try to pay. Not happy at all, but the support team was really helpful today.",
];

fn bench(c: &mut Criterion) {
    let scorer = LexiconScorer::new();
    c.bench_function("score_150_chars", |b| {
        b.iter(|| {
            for t in TEXTS {
                black_box(scorer.score(black_box(t), None));
            }
        });
    });
    c.bench_function("detect_150_chars", |b| {
        b.iter(|| {
            for t in TEXTS {
                black_box(detect_language(black_box(t)));
            }
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
