//! The shop dashboard for a chosen period: cases opened and closed per day as an SVG bar chart
//! drawn on the server, the time to first response, the share decided by timeout (which counts
//! against the shop), refund amounts and the top reasons as a second chart. The figures are the
//! engine's (`shop_report`).

use super::view::*;
use super::{refusal_page, render, Viewer};
use crate::error::ApiError;
use crate::state::AppState;
use aftersale_core::*;
use aftersale_engine::ShopReport;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/w/dashboard", get(page))
}

#[derive(Deserialize, Default)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// A date typed in the form, as the start of that day in the zone.
fn day_start(text: &str, offset: Dur) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z")).ok().map(|t| Timestamp(t.0 - offset.0))
}

async fn page(State(state): State<AppState>, v: Viewer, Query(p): Query<Period>) -> Response {
    let Some(shop) = v.caller.shop() else {
        return refusal_page(&v, &ApiError::forbidden("the dashboard is for shop staff"));
    };
    let offset = v.zone.offset;
    let day = Dur::days(1);
    let today = day_start(&local_date(v.now, v.zone), offset).unwrap_or(v.now);
    let from =
        p.from.as_deref().filter(|s| !s.is_empty()).and_then(|s| day_start(s, offset)).unwrap_or(today - Dur::days(13));
    let to_day = p.to.as_deref().filter(|s| !s.is_empty()).and_then(|s| day_start(s, offset)).unwrap_or(today);
    if to_day.0 < from.0 || to_day.0 - from.0 > Dur::days(365).0 {
        return refusal_page(&v, &ApiError::bad("to", "the period is 1 to 366 days, ending after it starts"));
    }
    let to = Timestamp(to_day.0 + day.0 - 1);
    let report = match state.run(move |e| e.shop_report(shop, from, to, offset)).await {
        Ok(r) => r,
        Err(e) => return refusal_page(&v, &e),
    };
    let body = html! {
        h1 { (v.t("Dashboard")) }
        form.filters method="get" action="/w/dashboard" aria-label=(v.t("Period")) {
            div { label for="d-from" { (v.t("From")) } input id="d-from" type="date" name="from" value=(local_date(from, v.zone)); }
            div { label for="d-to" { (v.t("To")) } input id="d-to" type="date" name="to" value=(local_date(to_day, v.zone)); }
            div.buttons { button type="submit" { (v.t("Show")) } }
        }
        @if !report.complete { p.error { (v.t("The period holds more cases than the dashboard reads; the figures cover the newest")) " " (aftersale_engine::REPORT_CAP) "." } }
        div.kpis {
            div.kpi { span.k { (v.t("Cases in the period")) } span.v data-testid="kpi-cases" { (report.cases) } }
            div.kpi { span.k { (v.t("Median first response")) } span.v { (report.first_response_median.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) } }
            div.kpi { span.k { (v.t("Decided by timeout")) } span.v data-testid="kpi-timeout" { (share(report.decided_by_timeout, report.cases)) }
                small { (v.t("counts against the shop")) } }
            div.kpi { span.k { (v.t("Refunded")) } span.v { @if report.refunded.is_empty() { "—" } @for m in &report.refunded { (money(*m)) " " } } small { (report.refunded_cases) " " (v.t("cases")) } }
        }
        section aria-labelledby="days-h" {
            h2 id="days-h" { (v.t("Cases opened and closed per day")) }
            (day_chart(&v, &report))
        }
        section aria-labelledby="reasons-h" {
            h2 id="reasons-h" { (v.t("Top reasons")) }
            (reason_chart(&v, &report))
        }
        section aria-labelledby="outcomes-h" {
            h2 id="outcomes-h" { (v.t("Outcomes asked for")) }
            table.outcomes data-testid="outcomes" {
                thead { tr { th { (v.t("Outcome")) } th { (v.t("Number of cases")) } th { (v.t("Order lines")) } th { (v.t("Units")) } } }
                tbody {
                    @for o in &report.outcomes {
                        tr data-outcome=(o.name) {
                            td { (match o.name { "exchange" => v.t("Exchange"), "resend" => v.t("Resend"), _ => v.t("Refund") }) }
                            td { (o.cases) } td { (o.lines) } td { (o.units) }
                        }
                    }
                }
            }
        }
        p.zone-note { (v.t("Days are cut in")) " " (v.zone.name) "." }
    };
    render(&v, v.t("Dashboard"), body)
}

fn share(n: u64, of: u64) -> String {
    if of == 0 {
        "—".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / of as f64)
    }
}

/// Paired bars per day (opened, closed), with the figures also as a table for screen readers.
fn day_chart(v: &Viewer, r: &ShopReport) -> Markup {
    let max = r.days.iter().map(|(_, o, c)| (*o).max(*c)).max().unwrap_or(0).max(1);
    let (w, h, pad) = (720.0_f64, 220.0_f64, 24.0_f64);
    let slot = (w - pad * 2.0) / r.days.len().max(1) as f64;
    let bar = (slot / 2.0 - 2.0).max(1.0);
    let y = |n: u64| h - pad - (n as f64 / max as f64) * (h - pad * 2.0);
    let mut svg = String::new();
    for (i, (day, opened, closed)) in r.days.iter().enumerate() {
        let x = pad + i as f64 * slot;
        svg.push_str(&format!(
            r#"<rect class="bar-opened" x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}"><title>{} {}: {opened}</title></rect>"#,
            y(*opened),
            h - pad - y(*opened),
            local_date(*day, v.zone),
            escape(v.t("opened"))
        ));
        svg.push_str(&format!(
            r#"<rect class="bar-closed" x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}"><title>{} {}: {closed}</title></rect>"#,
            x + bar + 1.0,
            y(*closed),
            h - pad - y(*closed),
            local_date(*day, v.zone),
            escape(v.t("closed"))
        ));
        if r.days.len() <= 31 && (i % ((r.days.len() / 8).max(1)) == 0) {
            svg.push_str(&format!(
                r#"<text x="{x:.1}" y="{:.1}" class="axis">{}</text>"#,
                h - 6.0,
                &local_date(*day, v.zone)[5..]
            ));
        }
    }
    svg.push_str(&format!(r#"<text x="2" y="{:.1}" class="axis">{max}</text>"#, pad));
    html! {
        figure {
            svg viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(v.t("Cases opened and closed per day")) class="chart" {
                (PreEscaped(svg))
            }
            figcaption { span.key-opened { (v.t("opened")) } " " span.key-closed { (v.t("closed")) } }
            details {
                summary { (v.t("The figures")) }
                table { thead { tr { th scope="col" { (v.t("Day")) } th scope="col" { (v.t("opened")) } th scope="col" { (v.t("closed")) } } }
                    tbody { @for (d, o, c) in &r.days { tr { td { (local_date(*d, v.zone)) } td { (o) } td { (c) } } } } }
            }
        }
    }
}

fn reason_chart(v: &Viewer, r: &ShopReport) -> Markup {
    let max = r.top_reasons.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (w, row) = (720.0_f64, 28.0_f64);
    let h = row * r.top_reasons.len().max(1) as f64;
    let mut svg = String::new();
    for (i, (reason, n)) in r.top_reasons.iter().enumerate() {
        let y = i as f64 * row;
        let len = (*n as f64 / max as f64) * (w - 260.0);
        let label = escape(&reason_label(v.lang, reason));
        svg.push_str(&format!(r#"<text x="0" y="{:.1}" class="axis">{label}</text>"#, y + 18.0));
        svg.push_str(&format!(r#"<rect class="bar-opened" x="220" y="{:.1}" width="{len:.1}" height="18"><title>{label}: {n}</title></rect>"#, y + 4.0));
        svg.push_str(&format!(r#"<text x="{:.1}" y="{:.1}" class="axis">{n}</text>"#, 226.0 + len, y + 18.0));
    }
    html! {
        @if r.top_reasons.is_empty() { p { (v.t("No cases in this period.")) } }
        @else {
            svg viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(v.t("Top reasons")) class="chart" { (PreEscaped(svg)) }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
