//! Campaigns: a dated push towards one objective, with an optional budget
//! and the UTM values its links carry.

use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Violation;
use super::text::{Line, Name, Prose};

/// Most characters an objective may have.
pub const OBJECTIVE_MAX_CHARS: usize = 2000;
/// Most characters a UTM value may have.
pub const UTM_MAX_CHARS: usize = 100;
/// Years a campaign date may fall in: four digits, so dates sort as text on
/// SQLite the way they sort as dates.
const YEARS: RangeInclusive<i32> = 1970..=9999;

/// Currencies a budget may be in: the circulating currencies of ISO 4217
/// (no fund codes, precious metals or test codes).
const CURRENCIES: [&str; 156] = [
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP",
    "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
    "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG",
    "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Where a campaign stands. `planned`, `active` and `completed` follow from
/// its dates and today's date (UTC); `archived` is set by hand and wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Starts after today.
    Planned,
    /// Today is within its dates.
    Active,
    /// Ended before today.
    Completed,
    /// Put away by a member; kept for reporting.
    Archived,
}

impl CampaignStatus {
    /// Every status.
    pub const ALL: [CampaignStatus; 4] = [
        CampaignStatus::Planned,
        CampaignStatus::Active,
        CampaignStatus::Completed,
        CampaignStatus::Archived,
    ];

    /// The status of a campaign running `starts_on..=ends_on`, on `today`.
    pub fn of(starts_on: NaiveDate, ends_on: NaiveDate, archived: bool, today: NaiveDate) -> Self {
        if archived {
            Self::Archived
        } else if today < starts_on {
            Self::Planned
        } else if today > ends_on {
            Self::Completed
        } else {
            Self::Active
        }
    }

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Archived => "archived",
        }
    }

    /// Reads a status name (a `?status=` filter).
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or("must be one of planned, active, completed, archived")
    }
}

/// A budget: an amount in the currency's minor unit (cents for EUR, yen for
/// JPY) and the currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// Whole minor units, never negative.
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

/// The UTM values a campaign's links carry unless a post says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utm {
    /// `utm_source`.
    pub source: Option<String>,
    /// `utm_medium`.
    pub medium: Option<String>,
    /// `utm_campaign`: a slug of the campaign's name unless given.
    pub campaign: String,
    /// `utm_term`.
    pub term: Option<String>,
    /// `utm_content`.
    pub content: Option<String>,
}

/// UTM values as a client sent them.
#[derive(Debug, Clone, Default)]
pub struct UtmDraft {
    /// `utm_source`.
    pub source: Option<String>,
    /// `utm_medium`.
    pub medium: Option<String>,
    /// `utm_campaign`; a slug of the name when absent.
    pub campaign: Option<String>,
    /// `utm_term`.
    pub term: Option<String>,
    /// `utm_content`.
    pub content: Option<String>,
}

/// A campaign as a client describes it, before any rule is checked.
#[derive(Debug, Clone)]
pub struct CampaignDraft {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub objective: Option<String>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// Amount in minor units and currency code.
    pub budget: Option<(i64, String)>,
    /// UTM values.
    pub utm: UtmDraft,
}

/// A campaign that keeps every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignPlan {
    /// Display name.
    pub name: Name,
    /// What it is for.
    pub objective: Option<String>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// Budget.
    pub budget: Option<Money>,
    /// UTM values.
    pub utm: Utm,
}

impl CampaignDraft {
    /// Checks every rule at once, naming each field that breaks one.
    pub fn check(self) -> Result<CampaignPlan, Vec<Violation>> {
        let mut violations = Vec::new();
        let name = Name::parse(&self.name)
            .map_err(|m| violations.push(Violation::new("name", m)))
            .ok();
        let objective = Prose::parse_optional(self.objective.as_deref(), OBJECTIVE_MAX_CHARS)
            .map_err(|m| violations.push(Violation::new("objective", m)))
            .ok()
            .flatten()
            .map(Prose::into_string);
        violations.extend(check_dates(self.starts_on, self.ends_on));
        let budget = self.budget.and_then(|(amount_minor, currency)| {
            match check_money(amount_minor, &currency) {
                Ok(money) => Some(money),
                Err(errors) => {
                    violations.extend(errors);
                    None
                }
            }
        });
        let utm = match check_utm(self.utm, &self.name) {
            Ok(utm) => Some(utm),
            Err(errors) => {
                violations.extend(errors);
                None
            }
        };
        match (name, utm) {
            (Some(name), Some(utm)) if violations.is_empty() => Ok(CampaignPlan {
                name,
                objective,
                starts_on: self.starts_on,
                ends_on: self.ends_on,
                budget,
                utm,
            }),
            _ => Err(violations),
        }
    }
}

/// The rules of a date range: four-digit years, and no end before the start.
pub fn check_dates(starts_on: NaiveDate, ends_on: NaiveDate) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (field, date) in [("starts_on", starts_on), ("ends_on", ends_on)] {
        if !YEARS.contains(&date.year()) {
            violations.push(Violation::new(field, "must be in a year from 1970 to 9999"));
        }
    }
    if ends_on < starts_on {
        violations.push(Violation::new("ends_on", "must not be before starts_on"));
    }
    violations
}

/// Reads an ISO 4217 currency code (any case) as its upper-case form.
pub fn parse_currency(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("must be a three-letter ISO 4217 code such as EUR");
    }
    if !CURRENCIES.contains(&code.as_str()) {
        return Err("is not a circulating ISO 4217 currency");
    }
    Ok(code)
}

/// The rules of a budget: a non-negative amount in a known currency.
pub fn check_money(amount_minor: i64, currency: &str) -> Result<Money, Vec<Violation>> {
    let mut violations = Vec::new();
    if amount_minor < 0 {
        violations.push(Violation::new(
            "budget.amount_minor",
            "must not be negative",
        ));
    }
    let currency = parse_currency(currency)
        .map_err(|m| violations.push(Violation::new("budget.currency", m)))
        .ok();
    match currency {
        Some(currency) if violations.is_empty() => Ok(Money {
            amount_minor,
            currency,
        }),
        _ => Err(violations),
    }
}

/// The rules of UTM values: single lines of at most 100 characters;
/// `campaign` defaults to a slug of the campaign's `name`.
pub fn check_utm(draft: UtmDraft, name: &str) -> Result<Utm, Vec<Violation>> {
    let mut violations = Vec::new();
    let mut value = |field: &'static str, raw: Option<String>| {
        raw.and_then(|raw| {
            Line::parse(&raw, UTM_MAX_CHARS)
                .map(Line::into_string)
                .map_err(|m| violations.push(Violation::new(field, m)))
                .ok()
        })
    };
    let source = value("utm.source", draft.source);
    let medium = value("utm.medium", draft.medium);
    let campaign = value("utm.campaign", draft.campaign);
    let term = value("utm.term", draft.term);
    let content = value("utm.content", draft.content);
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(Utm {
        source,
        medium,
        campaign: campaign.unwrap_or_else(|| slug(name)),
        term,
        content,
    })
}

/// A URL- and spreadsheet-friendly form of a name: lower case, letters and
/// digits, words joined by `-`. "Spring Launch 2026!" becomes
/// `spring-launch-2026`.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.chars().take(UTM_MAX_CHARS).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "campaign".to_owned()
    } else {
        slug.to_owned()
    }
}

/// Reads a calendar date written `YYYY-MM-DD` (a `?active_on=` filter).
pub fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "must be a date written YYYY-MM-DD")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        parse_date(raw).unwrap_or_default()
    }

    fn draft() -> CampaignDraft {
        CampaignDraft {
            name: "Spring Launch".to_owned(),
            objective: Some("  More trial sign-ups  ".to_owned()),
            starts_on: day("2026-03-01"),
            ends_on: day("2026-03-31"),
            budget: Some((250_000, "eur".to_owned())),
            utm: UtmDraft::default(),
        }
    }

    fn fields(result: Result<CampaignPlan, Vec<Violation>>) -> Vec<&'static str> {
        result
            .err()
            .unwrap_or_default()
            .iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn a_valid_draft_becomes_a_plan_with_defaults() {
        let plan = draft().check();
        assert_eq!(
            plan.as_ref().map(|p| p.utm.campaign.as_str()),
            Ok("spring-launch")
        );
        assert_eq!(
            plan.as_ref().map(|p| p.objective.clone()),
            Ok(Some("More trial sign-ups".to_owned()))
        );
        assert_eq!(
            plan.map(|p| p.budget),
            Ok(Some(Money {
                amount_minor: 250_000,
                currency: "EUR".to_owned()
            }))
        );
    }

    #[test]
    fn every_broken_rule_is_named() {
        let cases: Vec<(CampaignDraft, Vec<&str>)> = vec![
            (
                CampaignDraft {
                    ends_on: day("2026-02-28"),
                    ..draft()
                },
                vec!["ends_on"],
            ),
            (
                CampaignDraft {
                    starts_on: day("1969-12-31"),
                    ..draft()
                },
                vec!["starts_on"],
            ),
            (
                CampaignDraft {
                    budget: Some((-1, "XYZ".to_owned())),
                    ..draft()
                },
                vec!["budget.amount_minor", "budget.currency"],
            ),
            (
                CampaignDraft {
                    name: " ".to_owned(),
                    objective: Some("x".repeat(OBJECTIVE_MAX_CHARS + 1)),
                    ..draft()
                },
                vec!["name", "objective"],
            ),
            (
                CampaignDraft {
                    utm: UtmDraft {
                        source: Some(String::new()),
                        medium: Some("a\nb".to_owned()),
                        content: Some("x".repeat(UTM_MAX_CHARS + 1)),
                        ..UtmDraft::default()
                    },
                    ..draft()
                },
                vec!["utm.source", "utm.medium", "utm.content"],
            ),
            (
                CampaignDraft {
                    name: String::new(),
                    utm: UtmDraft {
                        term: Some("\t".to_owned()),
                        ..UtmDraft::default()
                    },
                    ..draft()
                },
                vec!["name", "utm.term"],
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(fields(draft.check()), expected);
        }
    }

    #[test]
    fn a_one_day_campaign_is_a_range() {
        assert!(check_dates(day("2026-05-01"), day("2026-05-01")).is_empty());
    }

    #[test]
    fn currencies_are_iso_4217_codes() {
        let cases = [
            ("EUR", Ok("EUR")),
            (" usd ", Ok("USD")),
            ("jpy", Ok("JPY")),
            ("XYZ", Err("is not a circulating ISO 4217 currency")),
            ("XAU", Err("is not a circulating ISO 4217 currency")),
            (
                "EURO",
                Err("must be a three-letter ISO 4217 code such as EUR"),
            ),
            (
                "E1R",
                Err("must be a three-letter ISO 4217 code such as EUR"),
            ),
            ("€", Err("must be a three-letter ISO 4217 code such as EUR")),
            ("", Err("must be a three-letter ISO 4217 code such as EUR")),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                parse_currency(raw).as_deref(),
                expected.as_ref().map(|s| *s),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_currency_list_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        let cases = [
            ("Spring Launch", "spring-launch"),
            ("  Black Friday -- 2026!  ", "black-friday-2026"),
            ("Été à Paris", "été-à-paris"),
            ("!!!", "campaign"),
            ("a_b.c", "a-b-c"),
        ];
        for (name, expected) in cases {
            assert_eq!(slug(name), expected, "{name:?}");
        }
        let long = slug(&"abc ".repeat(30));
        assert_eq!(
            long.chars().count(),
            99,
            "cut to 100, then the dash dropped"
        );
        assert!(long.ends_with("abc"));
    }

    #[test]
    fn utm_campaign_defaults_to_the_slug_only_when_absent() {
        let name = "Spring Launch";
        let given = UtmDraft {
            campaign: Some("spring_26".to_owned()),
            source: Some("newsletter".to_owned()),
            ..UtmDraft::default()
        };
        let utm = check_utm(given, name).ok();
        assert_eq!(utm.as_ref().map(|u| u.campaign.as_str()), Some("spring_26"));
        assert_eq!(utm.and_then(|u| u.source), Some("newsletter".to_owned()));
        let defaulted = check_utm(UtmDraft::default(), name).ok();
        assert_eq!(
            defaulted.map(|u| u.campaign),
            Some("spring-launch".to_owned())
        );
    }

    #[test]
    fn status_follows_the_dates_unless_archived() {
        let (start, end) = (day("2026-03-01"), day("2026-03-31"));
        let cases = [
            ("2026-02-28", false, CampaignStatus::Planned),
            ("2026-03-01", false, CampaignStatus::Active),
            ("2026-03-31", false, CampaignStatus::Active),
            ("2026-04-01", false, CampaignStatus::Completed),
            ("2026-03-15", true, CampaignStatus::Archived),
            ("2026-02-01", true, CampaignStatus::Archived),
        ];
        for (today, archived, expected) in cases {
            assert_eq!(
                CampaignStatus::of(start, end, archived, day(today)),
                expected,
                "{today} archived={archived}"
            );
        }
        for status in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::parse(status.as_str()), Ok(status));
        }
        assert!(CampaignStatus::parse("running").is_err());
    }

    #[test]
    fn dates_are_read_strictly() {
        assert_eq!(parse_date("2026-03-01"), Ok(day("2026-03-01")));
        for bad in ["2026-3-1x", "01/03/2026", "2026-02-30", ""] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
