//! Share of voice: how much of the conversation the listening queries hear
//! is about the brand rather than its competitors.
//!
//! `share = brand hits / (brand hits + competitor hits)`, counting the
//! inbox's listening hits of the period by the subject of the query that
//! found them; `topic` queries are shown but do not count.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::inbox_rules::ListeningQueryRow;
use crate::domain::metrics::Granularity;
use crate::domain::metrics::stats::rate;
use crate::metrics::inbox_report::SentimentMix;

/// One query's hits.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueryVoice {
    /// The listening query.
    pub query_id: String,
    /// Its name.
    pub name: String,
    /// `brand`, `competitor` or `topic`.
    pub subject: String,
    /// Hits in the period.
    pub hits: u64,
    /// Its part of the brand and competitor hits (`null` for topics or
    /// when there were none).
    pub share: Option<f64>,
    /// The mood of its hits.
    pub sentiment: SentimentMix,
}

/// Brand against competitors in one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VoiceBucket {
    /// The bucket's start.
    pub start: DateTime<Utc>,
    /// Hits of brand queries.
    pub brand: u64,
    /// Hits of competitor queries.
    pub competitor: u64,
    /// The brand's share (`null` with no hits).
    pub share: Option<f64>,
}

/// What the share-of-voice report answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Voices {
    /// The brand's share over the period.
    pub share: Option<f64>,
    /// Per query, most hits first.
    pub queries: Vec<QueryVoice>,
    /// Per bucket.
    pub trend: Vec<VoiceBucket>,
}

/// Counts the hits (query id, received at, sentiment) of a period split
/// into buckets starting at `starts`.
pub fn summarise(
    queries: &[ListeningQueryRow],
    hits: &[(String, NaiveDateTime, Option<String>)],
    starts: &[NaiveDateTime],
    granularity: Granularity,
) -> Voices {
    let subject: HashMap<&str, &str> = queries
        .iter()
        .map(|q| (q.id.as_str(), q.subject.as_str()))
        .collect();
    let index: HashMap<NaiveDateTime, usize> =
        starts.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let mut per_query: HashMap<&str, (u64, SentimentMix)> = HashMap::new();
    let mut trend: Vec<(u64, u64)> = vec![(0, 0); starts.len()];
    for (query, at, mood) in hits {
        let entry = per_query.entry(query.as_str()).or_default();
        entry.0 += 1;
        entry.1.add(mood.as_deref());
        let bucket = index
            .get(&granularity.bucket(*at))
            .and_then(|&i| trend.get_mut(i));
        match (subject.get(query.as_str()), bucket) {
            (Some(&"brand"), Some(b)) => b.0 += 1,
            (Some(&"competitor"), Some(b)) => b.1 += 1,
            _ => {}
        }
    }
    let total = |wanted: &str| -> u64 {
        queries
            .iter()
            .filter(|q| q.subject == wanted)
            .map(|q| per_query.get(q.id.as_str()).map_or(0, |e| e.0))
            .sum()
    };
    let (brand, competitor) = (total("brand"), total("competitor"));
    let mut voices: Vec<QueryVoice> = queries
        .iter()
        .map(|q| {
            let (hits, sentiment) = per_query.get(q.id.as_str()).cloned().unwrap_or_default();
            QueryVoice {
                query_id: q.id.clone(),
                name: q.name.clone(),
                subject: q.subject.clone(),
                hits,
                share: (q.subject != "topic")
                    .then(|| rate(hits, brand + competitor))
                    .flatten(),
                sentiment,
            }
        })
        .collect();
    voices.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.name.cmp(&b.name)));
    Voices {
        share: rate(brand, brand + competitor),
        queries: voices,
        trend: starts
            .iter()
            .zip(trend)
            .map(|(start, (brand, competitor))| VoiceBucket {
                start: Utc.from_utc_datetime(start),
                brand,
                competitor,
                share: rate(brand, brand + competitor),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: &str, subject: &str) -> ListeningQueryRow {
        ListeningQueryRow {
            id: id.to_owned(),
            workspace_id: "ws".to_owned(),
            channel_id: "ch".to_owned(),
            name: id.to_owned(),
            query: id.to_owned(),
            subject: subject.to_owned(),
            enabled: true,
            created_by: "u".to_owned(),
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_brand_share_counts_brand_against_competitors_only() {
        let queries = [
            query("us", "brand"),
            query("them", "competitor"),
            query("coffee", "topic"),
        ];
        let hit = |q: &str, when: &str, mood: &str| (q.to_owned(), at(when), Some(mood.to_owned()));
        let hits = [
            hit("us", "2026-11-01 10:00", "positive"),
            hit("us", "2026-11-02 10:00", "negative"),
            hit("us", "2026-11-02 11:00", "positive"),
            hit("them", "2026-11-02 12:00", "neutral"),
            hit("coffee", "2026-11-02 12:00", "neutral"),
        ];
        let days = [at("2026-11-01 00:00"), at("2026-11-02 00:00")];
        let voices = summarise(&queries, &hits, &days, Granularity::Day);
        assert_eq!(voices.share, Some(0.75));
        assert_eq!(voices.queries[0].query_id, "us");
        assert_eq!(voices.queries[0].share, Some(0.75));
        assert_eq!(voices.queries[0].sentiment.positive, 2);
        let topic = voices
            .queries
            .iter()
            .find(|q| q.subject == "topic")
            .unwrap();
        assert_eq!((topic.hits, topic.share), (1, None));
        assert_eq!(voices.trend[0].share, Some(1.0));
        assert_eq!((voices.trend[1].brand, voices.trend[1].competitor), (2, 1));
    }
}
