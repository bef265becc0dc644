//! Hover text for SVG charts: every bar or point of a chart gets a
//! `<title>` with its exact numbers, so a browser shows them on hover.
//!
//! plotters' SVG backend has no way to attach a `<title>` to what it draws,
//! so the drawing code records, for each bar or point, its pixel box and its
//! text ([`Hotspot`]), and [`with_titles`] appends one transparent rectangle
//! per hotspot, carrying that `<title>`, as the last group of the document
//! (on top of everything, so the pointer reaches it). The rectangles are
//! invisible (`fill-opacity="0"`), but have a fill, so they receive the
//! pointer. Output order is the hotspots' order: deterministic. All text is
//! XML-escaped here (`&<>"'`) and stripped of control characters, which XML
//! cannot carry at all.
//!
//! A browser shows the titles when the SVG is opened itself or embedded as
//! `<object>`/inline; an `<img>` of it is not interactive.

/// One hoverable box, in pixels of the chart canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct Hotspot {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    /// Plain text (escaped when written).
    pub title: String,
}

impl Hotspot {
    /// The box spanning two corners (in any order), at least 6 px each way
    /// so that thin bars and points stay easy to hover.
    pub fn spanning(a: (i32, i32), b: (i32, i32), title: String) -> Hotspot {
        let (mut x0, mut x1) = (a.0.min(b.0), a.0.max(b.0));
        let (mut y0, mut y1) = (a.1.min(b.1), a.1.max(b.1));
        if x1 - x0 < 6 {
            let c = (x0 + x1) / 2;
            (x0, x1) = (c - 3, c + 3);
        }
        if y1 - y0 < 6 {
            let c = (y0 + y1) / 2;
            (y0, y1) = (c - 3, c + 3);
        }
        Hotspot {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
            title,
        }
    }
}

/// `text` safe as XML character data or attribute value.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `svg` (a whole document from plotters' SVG backend) with one titled,
/// transparent rectangle per hotspot appended before the closing `</svg>`.
pub fn with_titles(mut svg: String, spots: &[Hotspot]) -> String {
    if spots.is_empty() {
        return svg;
    }
    let mut layer = String::from("<g class=\"hover\" fill=\"#000\" fill-opacity=\"0\">\n");
    for s in spots {
        layer.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>\n",
            s.x,
            s.y,
            s.w.max(1),
            s.h.max(1),
            xml_escape(&s.title)
        ));
    }
    layer.push_str("</g>\n");
    match svg.rfind("</svg>") {
        Some(i) => svg.insert_str(i, &layer),
        None => svg.push_str(&layer),
    }
    svg
}

/// A number for hover text: 5 significant digits, no exponent for the
/// magnitudes benchmarks produce, trailing zeros dropped.
pub fn hover_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e12).contains(&a) {
        return format!("{x:.4e}");
    }
    let decimals = if a == 0.0 {
        0
    } else {
        (4 - a.log10().floor() as i32).clamp(0, 8) as usize
    };
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::assert_well_formed_xml;

    #[test]
    fn titles_are_escaped_and_appended_before_the_end() {
        let svg = "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\" y=\"0\" width=\"1\" height=\"1\"/>\n</svg>\n".to_string();
        let spots = vec![
            Hotspot::spanning((5, 5), (1, 1), "a <b> & \"c\" 'd'\u{1}".into()),
            Hotspot::spanning((3, 3), (3, 3), "second".into()),
        ];
        let out = with_titles(svg, &spots);
        assert_eq!(out.matches("<title>").count(), 2);
        assert!(out.contains("<title>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; </title>"));
        assert!(out.contains("<rect x=\"0\" y=\"0\" width=\"6\" height=\"6\"><title>second</title>"));
        assert!(out.trim_end().ends_with("</g>\n</svg>"));
        assert_well_formed_xml(&out);
    }

    #[test]
    fn no_hotspots_leaves_the_document_alone() {
        assert_eq!(with_titles("<svg></svg>".into(), &[]), "<svg></svg>");
    }

    #[test]
    fn hover_numbers_are_compact() {
        assert_eq!(hover_num(331.1853), "331.19");
        assert_eq!(hover_num(0.9950019923), "0.995");
        assert_eq!(hover_num(12.0), "12");
        assert_eq!(hover_num(123456.7), "123457");
        assert_eq!(hover_num(0.0), "0");
        assert_eq!(hover_num(-2.5), "-2.5");
        assert_eq!(hover_num(1e-7), "1.0000e-7");
    }
}
