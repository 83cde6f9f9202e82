//! What the server knows of each RPC before its handler runs: the role a key needs to call
//! it, the largest request message it takes and whether it is unary. One table, read by the
//! access layer (`auth::layer`) and by the transport's request-size and deadline layers by
//! the request's path (`/tolmach.v1.Termbase/Lookup`), so that each method is described once;
//! a test checks the table against the protos, so a new method cannot be forgotten. A second,
//! small table gives each route of the JSON API the RPC it stands for, so that a route has
//! that RPC's role, bound and deadline.

use crate::store::Role;

/// The server's view of one RPC.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rpc {
    /// The gRPC path, `/package.Service/Method`.
    pub path: &'static str,
    /// The least role a key needs to call it; `None` for paths outside the table (health,
    /// reflection, unknown methods), which the access layer decides on by itself.
    pub role: Option<Role>,
    /// The largest request message accepted, in bytes (one message of a stream).
    pub max_request_bytes: usize,
    /// Whether one request gets one answer: such calls get the server's default deadline.
    /// Streams (imports, exports, health watches, reflection) end on their own terms.
    pub unary: bool,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Requests that name a few ids, names or options: pages, deletes, collections, Stats,
/// health and reflection.
const SMALL: usize = 64 * KIB;

/// Every RPC of `tolmach.v1`. The bounds follow the request checks of `service/`: a Lookup
/// text is at most 1 KiB, a Recognize text 1 MiB, a Search text 64 KiB, an AddUnits call
/// 10 000 units; each has room for its envelope (collections, memories, options) and for a
/// field somewhat over its own limit, which the service then refuses naming the field.
const RPCS: &[Rpc] = &[
    unary("/tolmach.v1.Termbase/UpsertConcept", Role::Editor, MIB),
    unary("/tolmach.v1.Termbase/GetConcept", Role::Reader, SMALL),
    unary("/tolmach.v1.Termbase/DeleteConcept", Role::Editor, SMALL),
    unary("/tolmach.v1.Termbase/ListConcepts", Role::Reader, SMALL),
    unary("/tolmach.v1.Termbase/Lookup", Role::Reader, 16 * KIB),
    unary(
        "/tolmach.v1.Termbase/Recognize",
        Role::Reader,
        MIB + 256 * KIB,
    ),
    unary("/tolmach.v1.Termbase/UpsertCollection", Role::Admin, SMALL),
    unary("/tolmach.v1.Termbase/ListCollections", Role::Reader, SMALL),
    unary("/tolmach.v1.Termbase/DeleteCollection", Role::Admin, SMALL),
    unary(
        "/tolmach.v1.Termbase/GetConceptHistory",
        Role::Reader,
        SMALL,
    ),
    stream("/tolmach.v1.Termbase/Watch", Role::Reader, SMALL),
    unary("/tolmach.v1.Memory/AddUnits", Role::Editor, 8 * MIB),
    unary("/tolmach.v1.Memory/DeleteUnits", Role::Editor, 8 * MIB),
    unary("/tolmach.v1.Memory/Search", Role::Reader, 256 * KIB),
    unary("/tolmach.v1.Memory/Concordance", Role::Reader, SMALL),
    unary("/tolmach.v1.Memory/Stats", Role::Reader, SMALL),
    unary("/tolmach.v1.Memory/ListUnits", Role::Reader, SMALL),
    unary("/tolmach.v1.Memory/DeleteMemory", Role::Admin, SMALL),
    // A 4 MiB chunk of the file and its field tag.
    stream("/tolmach.v1.Exchange/Import", Role::Editor, 4 * MIB + KIB),
    stream("/tolmach.v1.Exchange/Export", Role::Reader, SMALL),
    unary("/tolmach.v1.Exchange/GetImportJob", Role::Editor, SMALL),
    unary("/tolmach.v1.Access/CreateKey", Role::Admin, SMALL),
    unary("/tolmach.v1.Access/ListKeys", Role::Admin, SMALL),
    unary("/tolmach.v1.Access/RevokeKey", Role::Admin, SMALL),
    unary("/tolmach.v1.Access/ListAudit", Role::Admin, SMALL),
    // 1 MiB of pair texts with room for ids, tags and the envelope of 1 000 pairs.
    unary(
        "/tolmach.v1.Review/CheckTranslation",
        Role::Reader,
        MIB + 256 * KIB,
    ),
    unary(
        "/tolmach.v1.Review/GlossaryFor",
        Role::Reader,
        MIB + 256 * KIB,
    ),
];

/// The JSON API's routes that stand for an RPC (`web::api`), each with that RPC: a route
/// needs the RPC's role, takes a body no larger than the RPC's request bound, and gets the
/// server's deadline when the RPC is unary. A route missing here is refused to every key, as
/// an RPC missing from [`RPCS`] is.
const WEB_ROUTES: &[(&str, &str)] = &[
    ("/api/recognize", "/tolmach.v1.Termbase/Recognize"),
    ("/api/lookup", "/tolmach.v1.Termbase/Lookup"),
    ("/api/search", "/tolmach.v1.Memory/Search"),
    ("/api/info", "/tolmach.v1.Termbase/ListCollections"),
    ("/api/events", "/tolmach.v1.Termbase/Watch"),
    ("/api/check", "/tolmach.v1.Review/CheckTranslation"),
];

/// Any other path: health, reflection, or a method no service has (answered `UNIMPLEMENTED`).
const OTHER: Rpc = Rpc {
    path: "",
    role: None,
    max_request_bytes: SMALL,
    unary: false,
};

const fn unary(path: &'static str, role: Role, max_request_bytes: usize) -> Rpc {
    Rpc {
        path,
        role: Some(role),
        max_request_bytes,
        unary: true,
    }
}

const fn stream(path: &'static str, role: Role, max_request_bytes: usize) -> Rpc {
    Rpc {
        path,
        role: Some(role),
        max_request_bytes,
        unary: false,
    }
}

/// The RPC a request path names.
pub(crate) fn of(path: &str) -> &'static Rpc {
    RPCS.iter().find(|rpc| rpc.path == path).unwrap_or(&OTHER)
}

/// The RPC the JSON API's `route` (`/api/lookup`) stands for: [`OTHER`], which no key may
/// call, when the route is not in [`WEB_ROUTES`].
pub(crate) fn of_route(route: &str) -> &'static Rpc {
    WEB_ROUTES
        .iter()
        .find(|(path, _)| *path == route)
        .map_or(&OTHER, |(_, rpc)| of(rpc))
}

/// The largest request message any RPC of `service` (`tolmach.v1.Memory`) takes: the decoding
/// limit its tonic server is given, behind the per-RPC bound that
/// [`RequestSizeLayer`](crate::transport::RequestSizeLayer) enforces first.
pub(crate) fn largest_request(service: &str) -> usize {
    RPCS.iter()
        .filter(|rpc| {
            rpc.path
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(service))
                .is_some_and(|method| method.starts_with('/'))
        })
        .map(|rpc| rpc.max_request_bytes)
        .max()
        .unwrap_or(OTHER.max_request_bytes)
}

impl Rpc {
    /// The name for messages: the path without its leading slash, or "this RPC".
    pub fn name(&self) -> &'static str {
        match self.path.strip_prefix('/') {
            Some(name) => name,
            None => "this RPC",
        }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::service::proto::FILE_DESCRIPTOR_SET;

    /// A method added to a proto must be given its role and bound here: the fallback is for
    /// health and reflection, not for the server's own RPCs (a server with keys refuses a
    /// method without a role).
    #[test]
    fn every_method_of_the_protos_is_in_the_table_as_unary_or_stream() {
        let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("set");
        let mut methods = 0;
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    let rpc = of(&path);
                    assert_eq!(rpc.path, path, "{path} is missing from RPCS");
                    let unary = !method.client_streaming() && !method.server_streaming();
                    assert_eq!(rpc.unary, unary, "{path}");
                    methods += 1;
                }
            }
        }
        assert_eq!(methods, RPCS.len(), "RPCS lists a method no proto has");
    }

    #[test]
    fn each_path_is_listed_once() {
        for rpc in RPCS {
            assert_eq!(of(rpc.path), rpc, "{}", rpc.path);
        }
    }

    #[test]
    fn a_service_decodes_up_to_its_largest_rpc() {
        assert_eq!(largest_request("tolmach.v1.Memory"), 8 * MIB);
        assert_eq!(largest_request("tolmach.v1.Termbase"), MIB + 256 * KIB);
        assert_eq!(largest_request("tolmach.v1.Exchange"), 4 * MIB + KIB);
        assert_eq!(largest_request("grpc.health.v1.Health"), SMALL);
    }

    #[test]
    fn every_json_route_stands_for_an_rpc_of_the_table() {
        for (route, rpc) in WEB_ROUTES {
            assert_eq!(of_route(route).path, *rpc, "{route}");
        }
        assert_eq!(of_route("/api/nothing").role, None);
    }

    #[test]
    fn an_unknown_path_is_a_small_stream() {
        let rpc = of("/grpc.health.v1.Health/Watch");
        assert!(!rpc.unary);
        assert_eq!(rpc.max_request_bytes, SMALL);
        assert_eq!(rpc.name(), "this RPC");
    }
}
