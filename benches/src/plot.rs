//! PNG plots with plotters' bitmap backend. Text uses a TrueType font found on the machine
//! (DejaVu or Liberation); without one, the plot is drawn without text and the markdown
//! table beside it carries the labels.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontStyle;

/// Candidate fonts, first found wins.
const FONTS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
];

/// Registers a font once; true when text can be drawn.
pub fn fonts_available() -> bool {
    static READY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *READY.get_or_init(|| {
        FONTS.iter().any(|p| match std::fs::read(p) {
            Ok(bytes) => {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            }
            Err(_) => false,
        })
    })
}

/// Line colours, one per series, in series order (named in the markdown when there is no
/// legend).
pub const COLOURS: [(RGBColor, &str); 8] = [
    (RGBColor(220, 20, 60), "red"),
    (RGBColor(255, 140, 0), "orange"),
    (RGBColor(184, 134, 11), "ochre"),
    (RGBColor(30, 144, 255), "blue"),
    (RGBColor(34, 139, 34), "green"),
    (RGBColor(128, 0, 128), "purple"),
    (RGBColor(105, 105, 105), "grey"),
    (RGBColor(0, 0, 0), "black"),
];

/// One line of a percentile plot: a name and its pooled samples (ns).
pub struct Series<'a> {
    pub name: &'a str,
    pub samples: Vec<u64>,
}

/// Latency by percentile on a "nines" axis (0 = p0, 1 = p90, 2 = p99, 3 = p99.9,
/// 4 = p99.99), HdrHistogram style; y in microseconds.
pub fn percentile_spectrum(path: &Path, title: &str, series: &[Series<'_>]) -> anyhow::Result<()> {
    let text = fonts_available();
    let max_nines = 4.0;
    let curves: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            let mut v = s.samples.clone();
            v.sort_unstable();
            (0..=400)
                .map(|i| {
                    let nines = f64::from(i) / 100.0;
                    let q = 1.0 - 10f64.powf(-nines);
                    (nines, crate::stats::quantile(&v, q) as f64 / 1000.0)
                })
                .collect()
        })
        .collect();
    let y_max = curves
        .iter()
        .flat_map(|c| c.iter().map(|p| p.1))
        .fold(1.0f64, f64::max)
        * 1.2;
    let y_min = curves
        .iter()
        .flat_map(|c| c.first().map(|p| p.1))
        .fold(y_max, f64::min)
        .max(0.1)
        * 0.8;

    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if text {
        builder
            .caption(title, ("sans-serif", 22))
            .x_label_area_size(45)
            .y_label_area_size(60);
    } else {
        builder.x_label_area_size(10).y_label_area_size(10);
    }
    let mut chart = builder.build_cartesian_2d(0.0..max_nines, (y_min..y_max).log_scale())?;
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(5).y_labels(10);
    if text {
        mesh.x_desc("percentile")
            .y_desc("round trip (µs, log scale)")
            .y_label_formatter(&|y: &f64| format!("{y:.0}"))
            .x_label_formatter(&|x: &f64| match x.round() as i32 {
                0 => "p0".into(),
                1 => "p90".into(),
                2 => "p99".into(),
                3 => "p99.9".into(),
                4 => "p99.99".into(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 15));
    } else {
        mesh.x_label_formatter(&|_| String::new())
            .y_label_formatter(&|_| String::new());
    }
    mesh.draw()?;
    for (i, (curve, s)) in curves.into_iter().zip(series).enumerate() {
        let colour = COLOURS[i % COLOURS.len()].0;
        let line = chart.draw_series(LineSeries::new(curve, colour.stroke_width(2)))?;
        if text {
            line.label(s.name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        }
    }
    if text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Horizontal bars (one per name), values in the given unit; the best bar is annotated.
pub fn bars(path: &Path, title: &str, unit: &str, rows: &[(&str, f64)]) -> anyhow::Result<()> {
    let text = fonts_available();
    let max = rows.iter().map(|r| r.1).fold(1e-9f64, f64::max) * 1.45;
    let n = rows.len();
    let root = BitMapBackend::new(path, (1000, 60 + 45 * n as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(15);
    if text {
        builder
            .caption(title, ("sans-serif", 20))
            .x_label_area_size(35)
            .y_label_area_size(10);
    }
    let mut chart = builder.build_cartesian_2d(0.0..max, 0.0..n as f64)?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh().y_labels(0);
    if text {
        mesh.x_desc(unit).label_style(("sans-serif", 14));
    } else {
        mesh.x_label_formatter(&|_| String::new());
    }
    mesh.draw()?;
    for (i, (name, v)) in rows.iter().enumerate() {
        let y0 = (n - 1 - i) as f64 + 0.15;
        let colour = COLOURS[i % COLOURS.len()].0;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y0), (*v, y0 + 0.7)],
            colour.filled(),
        )))?;
        if text {
            chart.draw_series(std::iter::once(Text::new(
                format!("{name}  {v:.2}"),
                (*v + max * 0.01, y0 + 0.5),
                ("sans-serif", 14).into_font(),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}
