//! The document's plots, as SVG text (plotters' SVG backend: text is left to the viewer's fonts, so no
//! font files or C libraries are needed, and the output is the same on every machine).

use plotters::{element::DashedPathElement, prelude::*};
use thiserror::Error;

/// Why a plot could not be drawn.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("plot `{title}`: {message}")]
pub struct PlotError {
    /// The plot.
    pub title: String,
    /// plotters' message.
    pub message: String,
}

/// One line of a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its legend.
    pub label: String,
    /// Its points `(x, y)`, x ascending.
    pub points: Vec<(f64, f64)>,
    /// Dashed line (the second mode of a pair).
    pub dashed: bool,
    /// Index into the palette (four colours, repeated).
    pub color: usize,
}

/// A line plot: logarithmic x, logarithmic or linear y.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// The title above the plot.
    pub title: String,
    /// The x axis' description.
    pub x_label: String,
    /// The y axis' description.
    pub y_label: String,
    /// The x range.
    pub x_range: (f64, f64),
    /// The y range.
    pub y_range: (f64, f64),
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The legend in the upper left corner (else upper right).
    pub legend_left: bool,
    /// The lines.
    pub series: Vec<Series>,
}

const SIZE: (u32, u32) = (760, 460);
const COLORS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// A tick label of a logarithmic axis: powers of ten from 0.001 to 1000 written out, others as `1e<n>`.
fn log_tick(v: f64) -> String {
    let exponent = v.log10().round();
    if (-3.0..=3.0).contains(&exponent) {
        let decimals = (-exponent).max(0.0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("1e{exponent}")
    }
}

impl LinePlot {
    /// The SVG text.
    pub fn svg(&self) -> Result<String, PlotError> {
        let mut out = String::new();
        self.draw(&mut out).map_err(|message| PlotError { title: self.title.clone(), message })?;
        Ok(out)
    }

    fn draw(&self, out: &mut String) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut builder = ChartBuilder::on(&root);
        builder.caption(&self.title, ("sans-serif", 18)).margin(14).x_label_area_size(46).y_label_area_size(70);
        let x = (self.x_range.0..self.x_range.1).log_scale();
        if self.log_y {
            let mut chart =
                builder.build_cartesian_2d(x, (self.y_range.0..self.y_range.1).log_scale()).map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .x_label_formatter(&|v| log_tick(*v))
                .y_label_formatter(&|v| log_tick(*v))
                .draw()
                .map_err(|e| err(&e))?;
            self.lines(&mut chart)?;
        } else {
            let mut chart = builder.build_cartesian_2d(x, self.y_range.0..self.y_range.1).map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .x_label_formatter(&|v| log_tick(*v))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .draw()
                .map_err(|e| err(&e))?;
            self.lines(&mut chart)?;
        }
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }

    fn lines<'a, DB, CT>(&self, chart: &mut ChartContext<'a, DB, CT>) -> Result<(), String>
    where
        DB: DrawingBackend + 'a,
        CT: CoordTranslate<From = (f64, f64)>,
    {
        for series in &self.series {
            let color = COLORS.get(series.color % COLORS.len()).copied().unwrap_or(BLACK);
            let style = color.stroke_width(2);
            let points = series.points.clone();
            let label = series.label.as_str();
            if series.dashed {
                chart
                    .draw_series(DashedLineSeries::new(points, 8, 5, style))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 4, style));
            } else {
                chart
                    .draw_series(LineSeries::new(points, style))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            }
        }
        let position = if self.legend_left { SeriesLabelPosition::UpperLeft } else { SeriesLabelPosition::UpperRight };
        chart
            .configure_series_labels()
            .position(position)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(|e| e.to_string())
    }
}
