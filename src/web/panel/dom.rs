//! Small DOM helpers for the panel. Everything that shows data goes through text nodes
//! ([`TextCell`]) or attributes that are never parsed as markup; nothing here ever sets
//! `innerHTML` or the like. Cells remember what they show, so a render writes to the DOM only
//! what changed.

use std::cell::RefCell;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, EventTarget, HtmlElement, Node, Text};

pub(super) type R<T> = Result<T, JsValue>;

/// A new element with a class (or none).
pub(super) fn el(doc: &Document, tag: &str, class: &str) -> R<Element> {
    let e = doc.create_element(tag)?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    Ok(e)
}

/// A new element appended to `parent`.
pub(super) fn el_in(doc: &Document, parent: &Node, tag: &str, class: &str) -> R<Element> {
    let e = el(doc, tag, class)?;
    parent.append_child(&e)?;
    Ok(e)
}

/// Sets an attribute (fixed names; values are plain strings, never markup).
pub(super) fn attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

/// Appends static or data text as a text node.
pub(super) fn text_in(doc: &Document, parent: &Node, s: &str) -> R<Text> {
    let t = doc.create_text_node(s);
    parent.append_child(&t)?;
    Ok(t)
}

/// A button with a `data-act` name and a text label.
pub(super) fn button_in(
    doc: &Document,
    parent: &Node,
    class: &str,
    act: &str,
    label: &str,
) -> R<Element> {
    let b = el_in(doc, parent, "button", class)?;
    attr(&b, "type", "button");
    attr(&b, "data-act", act);
    text_in(doc, &b, label)?;
    Ok(b)
}

pub(super) fn set_hidden(e: &Element, hidden: bool) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        if h.hidden() != hidden {
            h.set_hidden(hidden);
        }
    }
}

/// Sets one CSS property through the CSSOM (allowed under any style-src CSP, unlike a
/// `style` attribute).
pub(super) fn style(e: &Element, prop: &str, value: &str) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        let _ = h.style().set_property(prop, value);
    }
}

pub(super) fn focus(e: &Element) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        let _ = h.focus();
    }
}

/// Removes every child of `e`.
pub(super) fn clear(e: &Element) {
    while let Some(c) = e.last_child() {
        let _ = e.remove_child(&c);
    }
}

/// A text node that remembers its text: [`TextCell::set`] writes only on change.
pub(super) struct TextCell {
    node: Text,
    value: String,
}

impl TextCell {
    pub(super) fn new_in(doc: &Document, parent: &Node, s: &str) -> R<TextCell> {
        Ok(TextCell {
            node: text_in(doc, parent, s)?,
            value: s.to_string(),
        })
    }

    /// Returns whether the DOM was written.
    pub(super) fn set(&mut self, s: &str) -> bool {
        if self.value == s {
            return false;
        }
        self.node.set_data(s);
        self.value.clear();
        self.value.push_str(s);
        true
    }

    pub(super) fn get(&self) -> &str {
        &self.value
    }
}

/// An attribute that remembers its value.
pub(super) struct AttrCell {
    el: Element,
    name: &'static str,
    value: Option<String>,
}

impl AttrCell {
    pub(super) fn new(el: &Element, name: &'static str) -> AttrCell {
        AttrCell {
            el: el.clone(),
            name,
            value: None,
        }
    }

    pub(super) fn set(&mut self, v: &str) {
        if self.value.as_deref() != Some(v) {
            attr(&self.el, self.name, v);
            self.value = Some(v.to_string());
        }
    }

    pub(super) fn remove(&mut self) {
        if self.value.is_some() {
            let _ = self.el.remove_attribute(self.name);
            self.value = None;
        }
    }
}

type ListenerFn = Closure<dyn FnMut(web_sys::Event)>;

/// Event listeners the panel added; dropping this removes them all.
#[derive(Default)]
pub(super) struct Listeners {
    list: Vec<(EventTarget, &'static str, ListenerFn, bool)>,
}

impl Listeners {
    pub(super) fn add(
        &mut self,
        target: &EventTarget,
        kind: &'static str,
        capture: bool,
        f: Box<dyn FnMut(web_sys::Event)>,
    ) {
        let c = Closure::wrap(f);
        if target
            .add_event_listener_with_callback_and_bool(kind, c.as_ref().unchecked_ref(), capture)
            .is_ok()
        {
            self.list.push((target.clone(), kind, c, capture));
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for (target, kind, c, capture) in self.list.drain(..) {
            let _ = target.remove_event_listener_with_callback_and_bool(
                kind,
                c.as_ref().unchecked_ref(),
                capture,
            );
        }
    }
}

/// A listener body that borrows the panel state (skipped if it is busy or gone).
pub(super) fn handler<T: 'static>(
    weak: &Weak<RefCell<T>>,
    f: fn(&mut T, &web_sys::Event),
) -> Box<dyn FnMut(web_sys::Event)> {
    let w = weak.clone();
    Box::new(move |ev: web_sys::Event| {
        if let Some(rc) = w.upgrade() {
            if let Ok(mut t) = rc.try_borrow_mut() {
                f(&mut t, &ev);
            }
        }
    })
}

/// The element an event happened on.
pub(super) fn target_el(ev: &web_sys::Event) -> Option<Element> {
    ev.target()?.dyn_into::<Element>().ok()
}

/// `data-NAME` of `e`, parsed as an index.
pub(super) fn data_index(e: &Element, name: &str) -> Option<usize> {
    e.get_attribute(name)?.parse().ok()
}
