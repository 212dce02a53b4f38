//! The one font of every figure, shipped with the crate (assets/fonts: DejaVu Sans cut down to
//! Latin-1 and a few symbols), so that figures are laid out and drawn the same on any machine,
//! with or without fonts installed.

use base64::Engine;
use std::sync::Once;

/// DejaVu Sans, subset (assets/fonts/README.md says how it was made).
pub static FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// The family the figures ask for; it is registered with plotters as our font.
pub const FAMILY: &str = "sans-serif";

/// The family name the embedded font takes in SVG and HTML.
const EMBEDDED_FAMILY: &str = "immunotrial-sans";

/// Registers the font with plotters, once (plotters measures and, in PNG, draws text with it).
pub fn register() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        for style in [
            plotters::style::FontStyle::Normal,
            plotters::style::FontStyle::Bold,
            plotters::style::FontStyle::Italic,
            plotters::style::FontStyle::Oblique,
        ] {
            // The bytes are compiled in and parse (tested), so this cannot fail.
            let _ = plotters::style::register_font(FAMILY, style, FONT_TTF);
        }
    });
}

/// A CSS rule that embeds the font and makes every text use it.
pub fn css() -> String {
    format!(
        "@font-face{{font-family:'{EMBEDDED_FAMILY}';src:url(data:font/ttf;base64,{})format('truetype');}}\
         text,body{{font-family:'{EMBEDDED_FAMILY}',sans-serif;}}",
        base64::engine::general_purpose::STANDARD.encode(FONT_TTF)
    )
}

/// A standalone SVG document with the font embedded (a `<style>` after the opening tag).
pub fn with_embedded_font(svg: &str) -> String {
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        Some(end) => format!("{}<style>{}</style>{}", &svg[..end], css(), &svg[end..]),
        None => svg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_font_parses() {
        assert!(
            plotters::style::register_font(
                "test-family",
                plotters::style::FontStyle::Normal,
                super::FONT_TTF
            )
            .is_ok()
        );
    }
}
