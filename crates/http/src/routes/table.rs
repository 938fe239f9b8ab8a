//! How the route table is written: every resource goes through [`Table::at`] (or
//! [`Table::public`]), every scope through [`Table::scope`] (or [`Table::scope_needing`]), so
//! each route's access is declared next to it — by default `read` for `GET`/`HEAD` and `write`
//! for other methods, otherwise with [`Res::needs`] — and collected in one [`RouteAccess`],
//! which the guard ([`crate::guard`]) consults before routing.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder};
use apistos::PathItemDefinition;
use apistos::web::{Resource, Scope};
use genonaut_domain::model::Scope as KeyScope;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Anyone, without a key.
    Public,
    /// A key with the `read` scope (or more).
    Read,
    /// A key with the `write` scope (or more).
    Write,
    /// A key with the `admin` scope.
    Admin,
}

impl Needs {
    /// The default: `read` for `GET`/`HEAD`, `write` for every other method.
    pub fn default_for(method: &Method) -> Needs {
        if matches!(*method, Method::GET | Method::HEAD) {
            Needs::Read
        } else {
            Needs::Write
        }
    }

    /// The key scope needed; `None` = public.
    pub fn scope(self) -> Option<KeyScope> {
        match self {
            Needs::Public => None,
            Needs::Read => Some(KeyScope::Read),
            Needs::Write => Some(KeyScope::Write),
            Needs::Admin => Some(KeyScope::Admin),
        }
    }
}

/// Which paths a declaration covers.
#[derive(Debug)]
enum Paths {
    /// The paths a resource's pattern matches, as the router matches them: literal segments,
    /// and `{name}` segments that match any one non-empty segment.
    Segments(Vec<Segment>),
    /// A pattern with more than that (a custom regex, a tail match), as the router matches it.
    Pattern(ResourceDef),
    /// This exact path.
    Exact(&'static str),
    /// Every path that begins with this text (a scope's declaration, also for unknown paths).
    Prefix(String),
    /// The paths a mount serves (outside the documented table).
    Mount(fn(&str) -> bool),
}

/// A segment of a route's pattern.
#[derive(Debug)]
enum Segment {
    Literal(String),
    Parameter,
}

impl Paths {
    /// The paths `pattern` (a full route pattern) matches.
    fn of_pattern(pattern: &str) -> Paths {
        let simple = !pattern.contains(['*', ':', '\\'])
            && pattern.split('/').all(|s| {
                !s.contains(['{', '}'])
                    || (s.starts_with('{') && s.ends_with('}') && s.matches('{').count() == 1)
            });
        if !simple || !pattern.starts_with('/') {
            return Paths::Pattern(ResourceDef::new(pattern));
        }
        let segments = pattern
            .split('/')
            .skip(1)
            .map(|s| {
                if s.starts_with('{') {
                    Segment::Parameter
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect();
        Paths::Segments(segments)
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            Paths::Segments(segments) => {
                let Some(mut rest) = path.strip_prefix('/') else {
                    return false;
                };
                let last = segments.len().saturating_sub(1);
                for (i, segment) in segments.iter().enumerate() {
                    let (part, tail) = if i == last {
                        (rest, "")
                    } else {
                        match rest.split_once('/') {
                            Some(split) => split,
                            None => return false,
                        }
                    };
                    let ok = match segment {
                        Segment::Literal(literal) => part == literal,
                        Segment::Parameter => !part.is_empty() && !part.contains('/'),
                    };
                    if !ok {
                        return false;
                    }
                    rest = tail;
                }
                true
            }
            Paths::Pattern(def) => def.is_match(path),
            Paths::Exact(exact) => path == *exact,
            Paths::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Paths::Mount(serves) => serves(path),
        }
    }
}

/// A declaration that differs from the default.
#[derive(Debug)]
struct Rule {
    paths: Paths,
    /// `None`: every method.
    method: Option<Method>,
    needs: Needs,
}

impl Rule {
    fn applies(&self, method: &Method, path: &str) -> bool {
        let method_matches = match &self.method {
            None => true,
            // `HEAD` is served by the `GET` route.
            Some(m) => m == method || (*m == Method::GET && *method == Method::HEAD),
        };
        method_matches && self.paths.matches(path)
    }
}

/// One route of the table, as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The full path pattern (`/api/v1/generation-jobs/{job_id}/status`).
    pub pattern: String,
    /// Its method.
    pub method: Method,
    /// Who may call it.
    pub needs: Needs,
}

impl Declared {
    /// A path this route serves: its pattern with every parameter `1`.
    pub fn sample_path(&self) -> String {
        self.pattern
            .split('/')
            .map(|segment| if segment.starts_with('{') { "1" } else { segment })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// What the route table declares about access: consulted by the guard on every request.
#[derive(Debug, Default)]
pub struct RouteAccess {
    /// The declarations that differ from the default, in table order.
    rules: Vec<Rule>,
    /// Every route, in table order (for checks of the table).
    routes: Vec<Declared>,
}

impl RouteAccess {
    /// Who may send `method` to `path`: the first declaration covering them, else the default
    /// (also for paths no route serves). Walks only the few declarations that differ from the
    /// default; allocates nothing.
    pub fn needs(&self, method: &Method, path: &str) -> Needs {
        self.rules
            .iter()
            .find(|rule| rule.applies(method, path))
            .map_or_else(|| Needs::default_for(method), |rule| rule.needs)
    }

    /// The scope `method` on `path` needs; `None` = public.
    pub fn needed_scope(&self, method: &Method, path: &str) -> Option<KeyScope> {
        self.needs(method, path).scope()
    }

    /// Every route of the table, in table order.
    pub fn routes(&self) -> &[Declared] {
        &self.routes
    }

    /// The first route of the table whose pattern matches `path` (the router's choice of
    /// resource), if any.
    pub fn route_of(&self, path: &str) -> Option<&Declared> {
        self.routes
            .iter()
            .find(|route| ResourceDef::new(route.pattern.as_str()).is_match(path))
    }
}

#[derive(Debug, Default)]
struct Collected {
    access: RouteAccess,
}

/// The route table being built: a path prefix (the enclosing scopes), what an enclosing
/// [`Table::scope_needing`] declared, and the declarations collected so far.
#[derive(Debug, Clone, Default)]
pub struct Table {
    prefix: String,
    inherited: Option<Needs>,
    collected: Rc<RefCell<Collected>>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Table::default()
    }

    fn rule(&self, paths: Paths, method: Option<Method>, needs: Needs) {
        self.collected
            .borrow_mut()
            .access
            .rules
            .push(Rule { paths, method, needs });
    }

    fn under(&self, path: &str) -> Table {
        Table {
            prefix: format!("{}{path}", self.prefix),
            inherited: self.inherited,
            collected: self.collected.clone(),
        }
    }

    /// A scope: `build` adds its services (declared through the table it is given).
    pub fn scope(&self, path: &str, build: impl FnOnce(&Table, Scope) -> Scope) -> Scope {
        build(&self.under(path), apistos::web::scope(path))
    }

    /// A scope every path under which — any method, routed or not — needs `needs`.
    pub fn scope_needing(
        &self,
        path: &str,
        needs: Needs,
        build: impl FnOnce(&Table, Scope) -> Scope,
    ) -> Scope {
        let mut inner = self.under(path);
        inner.inherited = Some(needs);
        self.rule(Paths::Prefix(inner.prefix.clone()), None, needs);
        build(&inner, apistos::web::scope(path))
    }

    /// A resource: `build` adds its routes, each with the default access unless
    /// [`Res::needs`] says otherwise.
    pub fn at(&self, path: &str, build: impl FnOnce(Res) -> Res) -> Resource {
        let res = Res {
            table: self.under(path),
            inner: apistos::web::resource(path),
            public: false,
            last: None,
        };
        build(res).inner
    }

    /// A public resource: no key, for any method.
    pub fn public(&self, path: &str, build: impl FnOnce(Res) -> Res) -> Resource {
        let table = self.under(path);
        self.rule(Paths::of_pattern(&table.prefix), None, Needs::Public);
        let res = Res {
            table,
            inner: apistos::web::resource(path),
            public: true,
            last: None,
        };
        build(res).inner
    }

    /// A public path served outside the documented table (`/ready`, the document itself).
    pub fn public_path(&self, path: &'static str) {
        self.rule(Paths::Exact(path), None, Needs::Public);
    }

    /// Every path beginning with `prefix` is public (a mount of pages and assets).
    pub fn public_prefix(&self, prefix: &'static str) {
        self.rule(Paths::Prefix(prefix.to_owned()), None, Needs::Public);
    }

    /// The paths `serves` says yes to are public (a mount with its own path rule).
    pub fn public_mount(&self, serves: fn(&str) -> bool) {
        self.rule(Paths::Mount(serves), None, Needs::Public);
    }

    /// What was declared.
    pub fn finish(self) -> RouteAccess {
        std::mem::take(&mut self.collected.borrow_mut().access)
    }
}

/// A resource being declared ([`Table::at`], [`Table::public`]).
pub struct Res {
    table: Table,
    inner: Resource,
    public: bool,
    /// The last route added: its index among the declared routes.
    last: Option<usize>,
}

impl Res {
    fn route<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        F::Future: PathItemDefinition,
    {
        let needs = if self.public {
            Needs::Public
        } else {
            self.table
                .inherited
                .unwrap_or_else(|| Needs::default_for(&method))
        };
        {
            let routes = &mut self.table.collected.borrow_mut().access.routes;
            routes.push(Declared {
                pattern: self.table.prefix.clone(),
                method: method.clone(),
                needs,
            });
            self.last = Some(routes.len() - 1);
        }
        self.inner = self.inner.route(apistos::web::method(method).to(handler));
        self
    }

    /// `GET` (and `HEAD`) to `handler`.
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        F::Future: PathItemDefinition,
    {
        self.route(Method::GET, handler)
    }

    /// `POST` to `handler`.
    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        F::Future: PathItemDefinition,
    {
        self.route(Method::POST, handler)
    }

    /// `PUT` to `handler`.
    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        F::Future: PathItemDefinition,
    {
        self.route(Method::PUT, handler)
    }

    /// `DELETE` to `handler`.
    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        F::Future: PathItemDefinition,
    {
        self.route(Method::DELETE, handler)
    }

    /// The route added last needs `needs` instead of the default.
    ///
    /// # Panics
    /// At start-up, if no route precedes it, or inside a public resource or a
    /// [`Table::scope_needing`] scope (whose declaration covers all of its routes).
    pub fn needs(self, needs: Needs) -> Self {
        let mut collected = self.table.collected.borrow_mut();
        let access = &mut collected.access;
        let route = match self.last.and_then(|i| access.routes.get_mut(i)) {
            Some(route) if !self.public && self.table.inherited.is_none() => route,
            _ => panic!(
                "`needs` follows a route of a resource whose access is not declared as a whole ({})",
                self.table.prefix
            ),
        };
        route.needs = needs;
        if needs != Needs::default_for(&route.method) {
            let rule = Rule {
                paths: Paths::of_pattern(&route.pattern),
                method: Some(route.method.clone()),
                needs,
            };
            access.rules.push(rule);
        }
        drop(collected);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The segment matcher answers as the router's own pattern matching.
    #[test]
    fn segments_match_as_the_router_does() {
        let patterns = [
            "/",
            "/api/v1/health",
            "/api/v1/generation-jobs/{job_id}/status",
            "/api/v1/interactions/user/{user_id}/content/{content_item_id}/{interaction_type}",
            "/api/v1/users",
        ];
        let paths = [
            "",
            "/",
            "//",
            "/api/v1/health",
            "/api/v1/health/",
            "/api/v1/health/x",
            "/api/v1/healthy",
            "/api/v1/generation-jobs/4/status",
            "/api/v1/generation-jobs//status",
            "/api/v1/generation-jobs/4/5/status",
            "/api/v1/generation-jobs/4/status/x",
            "/api/v1/generation-jobs/4/statu",
            "/api/v1/interactions/user/1/content/2/like",
            "/api/v1/interactions/user/1/content/2/like/",
            "/api/v1/users",
            "/api/v1/users/",
        ];
        for pattern in patterns {
            let ours = Paths::of_pattern(pattern);
            assert!(matches!(ours, Paths::Segments(_)), "{pattern}");
            let theirs = ResourceDef::new(pattern);
            for path in paths {
                assert_eq!(ours.matches(path), theirs.is_match(path), "{pattern} on {path:?}");
            }
        }
        assert!(matches!(Paths::of_pattern("/a/{id:\\d+}"), Paths::Pattern(_)));
        assert!(matches!(Paths::of_pattern("/a/{tail}*"), Paths::Pattern(_)));
    }
}
