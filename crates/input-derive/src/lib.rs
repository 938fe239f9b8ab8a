//! `#[derive(Input)]`: the parser of a genonaut-http request DTO generated from the same
//! declaration that documents it.
//!
//! A field is declared once: its Rust type, its doc comment, its bounds in
//! `#[schemars(range(..), length(..))]` and its default in `#[serde(default ..)]` produce both
//! the OpenAPI schema (through the `JsonSchema` derive) and, through this derive, an
//! `impl crate::input::Input` that reads the field with the matching `Fields` reader, applies
//! the same bounds and finishes it as required, optional or defaulted. Fields are read in
//! declaration order, so problems are reported in that order.
//!
//! Per field:
//! - the reader follows the type (`Option<..>` unwrapped; `#[schemars(with = "..")]` instead
//!   when `then` is given): `i64`/`i32` → `int`, `f64` → `float`, `bool` → `boolean`,
//!   `String` → `string`, `JsonObject`/`Map` → `object`, `Vec<String>` → `string_list`,
//!   `Vec<i64>` → `int_list`, `Vec<T>` → `object_list::<T>` (a nested [`Input`]), any other
//!   type → `enumeration::<T>` (an `InputEnum`);
//! - `Option<T>` → `.optional()`; `#[serde(default)]`/`#[serde(default = "path")]` →
//!   `.or(Default::default())`/`.or(path())`; otherwise `.required()`;
//! - `#[schemars(range(min = a, max = b))]` → `.ge(a).le(b)`; `length(min, max)` →
//!   `.min_len/.max_len` (strings) or `.min_items/.max_items` (lists);
//!   `#[serde(rename = "..")]` is the wire name.
//!
//! `#[input(..)]` says what only the parser needs:
//! - `gt`: the lower bound is worded "greater than min − 1" (the contract's `gt=0` for ids
//!   documented as `minimum: 1`);
//! - `with = path`: a custom reader `path(f, name) -> Field<W>` instead of the typed one;
//! - `then = path`: a conversion `path(f, name, Option<W>) -> Option<T>` of the finished wire
//!   value into the field's (domain) type, recording its own problems; `W` is the schemars
//!   `with` type;
//! - `matches = path`: checks the schemars `pattern(..)` with `path(&str) -> bool` (a pattern
//!   without `matches` is documentation only);
//! - `range(..)`/`length(..)`: parser-only bounds, added to the documented ones.
//!
//! On the struct: `#[input(check = path(a, b))]` runs a cross-field rule
//! `path(f, &a, &b) -> bool` after every field is read (`false` = refused, problem recorded);
//! `#[input(plain)]` also generates `Input::plain` (path segments) for structs of unbounded
//! required `i64`/`String` fields; `#[input(plain_json)]` generates `Input::plain_json`, a
//! serde shortcut for the usual JSON body, from the same fields and bounds (required or
//! `Option` integers, enums and objects).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens, TokenTree};
use quote::{quote, quote_spanned};
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Data, DeriveInput, Error, Fields, GenericArgument, Ident, LitStr, Path, PathArguments, Token, Type,
};

/// Derives `crate::input::Input` (see the crate docs).
#[proc_macro_derive(Input, attributes(input))]
pub fn derive_input(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(Error::into_compile_error).into()
}

#[derive(Default)]
struct Bounds {
    min: Option<Tokens>,
    max: Option<Tokens>,
}

#[derive(Default)]
struct FieldSpec {
    wire_name: Option<String>,
    default: Option<Tokens>,
    range: Bounds,
    length: Bounds,
    schema_with: Option<Type>,
    pattern: Option<LitStr>,
    gt: bool,
    with: Option<Path>,
    then: Option<Path>,
    matches: Option<Path>,
}

struct Check {
    rule: Path,
    fields: Vec<Ident>,
}

/// The tokens of one attribute value, up to the next top-level comma.
fn value_tokens(input: ParseStream<'_>) -> syn::Result<Tokens> {
    let mut out = Tokens::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        out.extend([input.parse::<TokenTree>()?]);
    }
    Ok(out)
}

/// Skips an argument this derive does not read (`name`, `name = ..` or `name(..)`).
fn skip(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?;
        value_tokens(meta.input)?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn bounds(meta: &syn::meta::ParseNestedMeta<'_>, into: &mut Bounds) -> syn::Result<()> {
    meta.parse_nested_meta(|m| {
        m.input.parse::<Token![=]>()?;
        let value = value_tokens(m.input)?;
        if m.path.is_ident("min") {
            into.min = Some(value);
        } else if m.path.is_ident("max") {
            into.max = Some(value);
        } else {
            return Err(m.error("expected `min` or `max`"));
        }
        Ok(())
    })
}

fn field_spec(field: &syn::Field) -> syn::Result<FieldSpec> {
    let mut spec = FieldSpec::default();
    for attr in &field.attrs {
        if attr.path().is_ident("schemars") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("range") {
                    bounds(&meta, &mut spec.range)
                } else if meta.path.is_ident("length") {
                    bounds(&meta, &mut spec.length)
                } else if meta.path.is_ident("with") {
                    spec.schema_with = Some(meta.value()?.parse::<LitStr>()?.parse()?);
                    Ok(())
                } else if meta.path.is_ident("pattern") {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    spec.pattern = Some(content.parse()?);
                    Ok(())
                } else {
                    skip(&meta)
                }
            })?;
        } else if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    spec.default = Some(if meta.input.peek(Token![=]) {
                        let path: Path = meta.value()?.parse::<LitStr>()?.parse()?;
                        quote!(#path())
                    } else {
                        quote!(::core::default::Default::default())
                    });
                    Ok(())
                } else if meta.path.is_ident("rename") {
                    spec.wire_name = Some(meta.value()?.parse::<LitStr>()?.value());
                    Ok(())
                } else {
                    skip(&meta)
                }
            })?;
        } else if attr.path().is_ident("input") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("gt") {
                    spec.gt = true;
                } else if meta.path.is_ident("with") {
                    spec.with = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("then") {
                    spec.then = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("matches") {
                    spec.matches = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("range") {
                    bounds(&meta, &mut spec.range)?;
                } else if meta.path.is_ident("length") {
                    bounds(&meta, &mut spec.length)?;
                } else {
                    return Err(meta.error("unknown `input` option"));
                }
                Ok(())
            })?;
        }
    }
    Ok(spec)
}

/// `Some(T)` for `Name<T>` where the last path segment is `name`.
fn generic_of<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn last_ident(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    Some(p.path.segments.last()?.ident.to_string())
}

enum Reader {
    /// A `Fields` reader returning `Field<T>`, and what kind of value it reads.
    Field(Tokens, Kind),
    /// `object_list::<T>`: a list of nested inputs (always required).
    ObjectList(Type),
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Int,
    Float,
    Str,
    List,
    Other,
}

fn reader(ty: &Type, name: &str) -> Reader {
    let ident = last_ident(ty).unwrap_or_default();
    match ident.as_str() {
        "i64" | "i32" => Reader::Field(quote!(f.int(#name)), Kind::Int),
        "f64" => Reader::Field(quote!(f.float(#name)), Kind::Float),
        "bool" => Reader::Field(quote!(f.boolean(#name)), Kind::Other),
        "String" => Reader::Field(quote!(f.string(#name)), Kind::Str),
        "JsonObject" | "Map" => Reader::Field(quote!(f.object(#name)), Kind::Other),
        "Vec" => match generic_of(ty, "Vec").and_then(last_ident).as_deref() {
            Some("String") => Reader::Field(quote!(f.string_list(#name)), Kind::List),
            Some("i64") => Reader::Field(quote!(f.int_list(#name)), Kind::List),
            _ => Reader::ObjectList(generic_of(ty, "Vec").cloned().unwrap_or_else(|| ty.clone())),
        },
        _ => Reader::Field(quote!(f.enumeration::<#ty>(#name)), Kind::Other),
    }
}

struct Generated {
    read: Tokens,
    /// The local holds `Option<T>` for a `T` field (`None` = refused).
    required: bool,
    /// Needs the `__ok` flag.
    flags: bool,
}

fn field_code(field: &syn::Field) -> syn::Result<Generated> {
    let spec = field_spec(field)?;
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| Error::new(field.span(), "named fields only"))?;
    let name = spec.wire_name.clone().unwrap_or_else(|| ident.to_string());
    let span = field.ty.span();
    let optional_ty = generic_of(&field.ty, "Option");
    let optional = optional_ty.is_some();
    let value_ty = optional_ty.unwrap_or(&field.ty);
    // The wire type: the documented one when a conversion follows.
    let wire_ty = match (&spec.then, &spec.schema_with) {
        (Some(_), Some(with)) => generic_of(with, "Option").unwrap_or(with).clone(),
        (Some(then), None) => {
            return Err(Error::new(
                then.span(),
                "`then` needs `#[schemars(with = \"..\")]` for the wire type",
            ));
        }
        _ => value_ty.clone(),
    };
    let is_i32 = spec.then.is_none() && last_ident(&wire_ty).as_deref() == Some("i32");

    let (base, kind) = match (&spec.with, reader(&wire_ty, &name)) {
        (Some(with), _) => (quote!(#with(f, #name)), Kind::Other),
        (None, Reader::Field(base, kind)) => (base, kind),
        (None, Reader::ObjectList(item)) => {
            if optional || spec.default.is_some() || spec.then.is_some() {
                return Err(Error::new(span, "a list of nested inputs is always required"));
            }
            let min = spec.length.min.clone().unwrap_or(quote!(0));
            let max = spec.length.max.clone().unwrap_or(quote!(usize::MAX));
            return Ok(Generated {
                read: quote_spanned!(span=> f.object_list::<#item>(#name, #min, #max)),
                required: true,
                flags: false,
            });
        }
    };

    let mut chain = base;
    match kind {
        Kind::Int | Kind::Float => {
            if let Some(min) = &spec.range.min {
                chain = if spec.gt {
                    quote!(#chain.gt((#min) - 1))
                } else {
                    quote!(#chain.ge(#min))
                };
            }
            if let Some(max) = &spec.range.max {
                chain = quote!(#chain.le(#max));
            }
        }
        _ if spec.range.min.is_some() || spec.range.max.is_some() => {
            return Err(Error::new(span, "`range` applies to numbers only"));
        }
        _ => {}
    }
    if spec.gt && (kind != Kind::Int || spec.range.min.is_none()) {
        return Err(Error::new(span, "`gt` needs an integer with `range(min = ..)`"));
    }
    let (min_fn, max_fn) = match kind {
        Kind::Str => (quote!(min_len), quote!(max_len)),
        Kind::List => (quote!(min_items), quote!(max_items)),
        _ if spec.length.min.is_some() || spec.length.max.is_some() => {
            return Err(Error::new(span, "`length` applies to strings and lists only"));
        }
        _ => (quote!(), quote!()),
    };
    if let Some(min) = &spec.length.min {
        chain = quote!(#chain.#min_fn(#min));
    }
    if let Some(max) = &spec.length.max {
        chain = quote!(#chain.#max_fn(#max));
    }
    match (&spec.matches, &spec.pattern) {
        (Some(matches), Some(pattern)) => chain = quote!(#chain.pattern(#pattern, #matches)),
        (Some(matches), None) => {
            return Err(Error::new(
                matches.span(),
                "`matches` needs `#[schemars(pattern(..))]`",
            ));
        }
        _ => {}
    }
    let cast = if is_i32 {
        quote!(.map(|v| v as i32))
    } else {
        quote!()
    };

    let generated = match (&spec.then, optional, &spec.default) {
        (None, true, _) => Generated {
            read: quote_spanned!(span=> #chain.optional()#cast),
            required: false,
            flags: false,
        },
        (None, false, Some(default)) if !is_i32 => Generated {
            read: quote_spanned!(span=> #chain.or(#default)),
            required: false,
            flags: false,
        },
        (None, false, Some(_)) => return Err(Error::new(span, "a defaulted `i32` is not supported")),
        (None, false, None) => Generated {
            read: quote_spanned!(span=> #chain.required()#cast),
            required: true,
            flags: false,
        },
        (Some(then), false, None) => Generated {
            read: quote_spanned!(span=> {
                let raw = #chain.required();
                #then(f, #name, raw)
            }),
            required: true,
            flags: false,
        },
        (Some(then), true, _) => Generated {
            read: quote_spanned!(span=> {
                let raw = #chain.optional();
                let given = raw.is_some();
                let value = #then(f, #name, raw);
                if given && value.is_none() {
                    __ok = false;
                }
                value
            }),
            required: false,
            flags: true,
        },
        (Some(_), false, Some(_)) => return Err(Error::new(span, "`then` with a default is not supported")),
    };
    Ok(generated)
}

fn plain_code(fields: &Punctuated<syn::Field, Token![,]>) -> syn::Result<Tokens> {
    let mut inits = Vec::new();
    for field in fields {
        let spec = field_spec(field)?;
        let ident = field
            .ident
            .as_ref()
            .ok_or_else(|| Error::new(field.span(), "named fields only"))?;
        let name = spec.wire_name.clone().unwrap_or_else(|| ident.to_string());
        let bounded = spec.range.min.is_some()
            || spec.range.max.is_some()
            || spec.length.min.is_some()
            || spec.length.max.is_some()
            || spec.default.is_some()
            || spec.with.is_some()
            || spec.then.is_some();
        let init = match last_ident(&field.ty).as_deref() {
            Some("i64") if !bounded => quote!(crate::input::plain_int(raw(#name)?)?),
            Some("String") if !bounded => quote!(raw(#name)?.to_owned()),
            _ => {
                return Err(Error::new(
                    field.span(),
                    "`plain` needs required, unbounded `i64` or `String` fields",
                ));
            }
        };
        inits.push(quote!(#ident: #init));
    }
    Ok(quote! {
        fn plain<'v>(raw: &dyn Fn(&str) -> Option<&'v str>) -> Option<Self> {
            Some(Self { #(#inits),* })
        }
    })
}

/// `Input::plain_json`: the body read directly by serde into a mirror of the struct (integers
/// as JSON integers, enum values as unescaped strings, objects), refusing (`None`, so the full
/// pass words the problem) unknown or repeated keys, values out of the declared bounds and
/// objects that cannot be stored. Only required and `Option` fields of those kinds.
fn plain_json_code(fields: &Punctuated<syn::Field, Token![,]>) -> syn::Result<Tokens> {
    let mut mirror = Vec::new();
    let mut inits = Vec::new();
    for field in fields {
        let spec = field_spec(field)?;
        let ident = field
            .ident
            .as_ref()
            .ok_or_else(|| Error::new(field.span(), "named fields only"))?;
        let name = spec.wire_name.clone().unwrap_or_else(|| ident.to_string());
        let optional_ty = generic_of(&field.ty, "Option");
        let value_ty = optional_ty.unwrap_or(&field.ty);
        let unsupported = |why: &str| Err(Error::new(field.span(), format!("`plain_json`: {why}")));
        if spec.default.is_some() || spec.with.is_some() || spec.then.is_some() || spec.matches.is_some() {
            return unsupported("defaulted or custom-read fields go through the full pass");
        }
        let (mirror_ty, check) = match reader(value_ty, &name) {
            Reader::Field(_, Kind::Int) => {
                let is_i32 = last_ident(value_ty).as_deref() == Some("i32");
                if is_i32 && (spec.range.min.is_none() || spec.range.max.is_none()) {
                    return unsupported("an `i32` needs both bounds");
                }
                let min = spec
                    .range
                    .min
                    .clone()
                    .map(|m| quote!(if v < (#m) { return None; }));
                let max = spec
                    .range
                    .max
                    .clone()
                    .map(|m| quote!(if v > (#m) { return None; }));
                let cast = if is_i32 { quote!(v as i32) } else { quote!(v) };
                (
                    quote!(i64),
                    quote!(|v: i64| -> Option<#value_ty> { #min #max Some(#cast) }),
                )
            }
            Reader::Field(_, Kind::Other)
                if matches!(last_ident(value_ty).as_deref(), Some("JsonObject" | "Map")) =>
            {
                (
                    quote!(#value_ty),
                    quote!(|v: #value_ty| crate::extract::unstorable_in(&v).is_none().then_some(v)),
                )
            }
            Reader::Field(_, Kind::Other) if last_ident(value_ty).as_deref() != Some("bool") => (
                quote!(&'plain str),
                quote!(|v: &str| <#value_ty as crate::input::InputEnum>::parse_input(v)),
            ),
            _ => return unsupported("only integers, enums and objects"),
        };
        let (mirror_ty, init) = if optional_ty.is_some() {
            (
                quote!(Option<#mirror_ty>),
                quote!(match plain.#ident { Some(v) => Some((#check)(v)?), None => None }),
            )
        } else {
            (mirror_ty, quote!((#check)(plain.#ident)?))
        };
        mirror.push(quote!(#[serde(rename = #name)] #ident: #mirror_ty));
        inits.push(quote!(#ident: #init));
    }
    Ok(quote! {
        fn plain_json(body: &[u8]) -> Option<Self> {
            #[derive(::serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Plain<'plain> {
                #(#mirror,)*
                #[serde(skip)]
                _borrow: ::core::marker::PhantomData<&'plain ()>,
            }
            let plain: Plain<'_> = ::serde_json::from_slice(body).ok()?;
            Some(Self { #(#inits),* })
        }
    })
}

fn parse_check(input: ParseStream<'_>) -> syn::Result<Check> {
    let rule: Path = input.parse()?;
    let content;
    syn::parenthesized!(content in input);
    let fields = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
    Ok(Check {
        rule,
        fields: fields.into_iter().collect(),
    })
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(Error::new(input.span(), "`Input` derives for structs only"));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(Error::new(
            input.span(),
            "`Input` derives for structs with named fields only",
        ));
    };
    let mut checks = Vec::new();
    let mut plain = false;
    let mut plain_json = false;
    for attr in &input.attrs {
        if attr.path().is_ident("input") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("check") {
                    meta.input.parse::<Token![=]>()?;
                    checks.push(parse_check(meta.input)?);
                } else if meta.path.is_ident("plain") {
                    plain = true;
                } else if meta.path.is_ident("plain_json") {
                    plain_json = true;
                } else {
                    return Err(meta.error("unknown `input` option"));
                }
                Ok(())
            })?;
        }
    }

    let mut reads = Vec::new();
    let mut inits = Vec::new();
    let mut flags = false;
    for field in &named.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| Error::new(field.span(), "named fields only"))?;
        let local = Ident::new(&format!("__{ident}"), Span::call_site());
        let code = field_code(field)?;
        flags |= code.flags;
        let read = code.read;
        reads.push(quote!(let #local = #read;));
        inits.push(if code.required {
            quote!(#ident: #local?)
        } else {
            quote!(#ident: #local)
        });
    }
    let check_calls = checks.iter().map(|c| {
        let rule = &c.rule;
        let args = c.fields.iter().map(|a| Ident::new(&format!("__{a}"), a.span()));
        quote! {
            if !#rule(f, #(&#args),*) {
                return None;
            }
        }
    });
    let (flag_decl, flag_test) = if flags {
        (
            quote!(let mut __ok = true;),
            quote!(if !__ok {
                return None;
            }),
        )
    } else {
        (quote!(), quote!())
    };
    let plain = if plain {
        plain_code(&named.named)?
    } else {
        quote!()
    };
    let plain_json = if plain_json {
        plain_json_code(&named.named)?
    } else {
        quote!()
    };
    let name = &input.ident;
    Ok(quote! {
        impl crate::input::Input for #name {
            fn parse(f: &mut crate::input::Fields<'_>) -> Option<Self> {
                #flag_decl
                #(#reads)*
                #(#check_calls)*
                #flag_test
                Some(Self { #(#inits),* })
            }
            #plain
            #plain_json
        }
    })
}
