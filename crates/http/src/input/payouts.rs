//! A payout file as finance's bank returns it, read into lines for the engine: CSV (RFC 4180,
//! UTF-8, a byte-order mark allowed) with a header naming at least `refund_id` and `status`, and
//! `reference` and `reason` where they are given. What a line means is the engine's to check
//! (`Engine::settle_payouts_as`); a line that cannot be read is handed on as its reason, so that
//! the file's report names every bad line at once.

use aftersale_engine::refunds::{PayoutLine, PayoutResult};

/// The most lines one file may hold.
pub const MAX_LINES: usize = 10_000;

/// Splits CSV text into records of cells (quotes, doubled quotes and line breaks inside quotes
/// as RFC 4180 has them); each record with the line it starts on.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let (mut cell, mut record) = (String::new(), Vec::new());
    let (mut quoted, mut line, mut start) = (false, 1usize, 1usize);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                cell.push(c);
            }
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                out.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(format!("a quote opened on line {start} is never closed"));
    }
    if !cell.is_empty() || !record.is_empty() {
        record.push(cell);
        out.push((start, record));
    }
    // Blank lines are no records.
    out.retain(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(out)
}

/// The payout lines of a file, or why the file as a whole cannot be read.
pub fn lines(text: &str) -> Result<Vec<PayoutLine>, String> {
    let mut records = records(text)?.into_iter();
    let (_, header) = records.next().ok_or("the file is empty")?;
    let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(id_col), Some(status_col)) = (col("refund_id"), col("status")) else {
        return Err("the header must name refund_id and status (and may name reference and reason)".into());
    };
    let (reference_col, reason_col) = (col("reference"), col("reason"));
    let mut out = Vec::new();
    for (line, cells) in records {
        if out.len() == MAX_LINES {
            return Err(format!("more than {MAX_LINES} lines; send it in parts"));
        }
        let cell =
            |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        let result = match cell(Some(status_col)).as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("paid" | "succeeded" | "success") => {
                Ok(PayoutResult { paid: true, reference: cell(reference_col), reason: None })
            }
            Some("failed" | "fail") => {
                Ok(PayoutResult { paid: false, reference: cell(reference_col), reason: cell(reason_col) })
            }
            Some(other) => Err(format!("status {other:?} is not paid or failed")),
            None => Err("status is empty".to_string()),
        };
        out.push(PayoutLine { line, refund: cell(Some(id_col)).unwrap_or_default(), result });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_rfc_4180() {
        let r = records("\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\n\n").unwrap();
        assert_eq!(r[0], (1, vec!["a".to_string(), "b".into()]));
        assert_eq!(r[1], (2, vec!["x, y".to_string(), "say \"hi\"".into()]));
        assert_eq!(r[2], (3, vec!["two\nlines".to_string(), "z".into()]));
        assert_eq!(r.len(), 3);
        assert!(records("a,\"open\n").is_err());
    }

    #[test]
    fn lines_read_by_the_header_and_keep_bad_lines_as_reasons() {
        let l = lines(
            "Status,Refund_ID,reference,reason\npaid,rf_1,B-1,\nFAILED,2,,account closed\nmaybe,rf_3,,\n,rf_4,,\n",
        )
        .unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!((l[0].line, l[0].refund.as_str()), (2, "rf_1"));
        assert_eq!(l[0].result, Ok(PayoutResult { paid: true, reference: Some("B-1".into()), reason: None }));
        assert_eq!(
            l[1].result,
            Ok(PayoutResult { paid: false, reference: None, reason: Some("account closed".into()) })
        );
        assert!(l[2].result.as_ref().unwrap_err().contains("\"maybe\""));
        assert_eq!(l[3].result, Err("status is empty".into()));
        assert!(lines("id,state\n1,paid\n").unwrap_err().contains("refund_id and status"));
        assert!(lines("").is_err());
    }
}
