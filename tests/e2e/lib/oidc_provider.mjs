// A real OpenID Provider (the `oidc-provider` npm package) in this process on a loopback
// port, for end-to-end tests of Sluice's external-issuer path. It issues RS256 JWT access
// tokens through the client_credentials grant with a resource indicator (the resource is the
// token's "aud"), adds a roles claim per client, and can rotate its signing key: a rotation
// builds a new Provider that signs with a fresh key (new kid) and publishes old and new
// keys in its JWKS, behind the same listening socket and issuer URL.
import { createServer } from "node:http";
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import Provider, { errors } from "oidc-provider";

// An RSA signing key as a private JWK with a fresh kid.
export function newSigningJwk() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: `e2e-${randomUUID()}`, alg: "RS256", use: "sig" };
}

// clients: [{ client_id, client_secret, roles?: [...], ttl?: seconds }]. Every resource
// indicator under https:// is accepted (so a test can ask for a token meant for another
// API); tokens are JWTs signed with the current key.
export async function startOidcProvider({ clients }) {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const byId = new Map(clients.map((c) => [c.client_id, c]));
  let keys = [newSigningJwk()];
  let handler;

  const build = () => {
    const signingKid = keys[0].kid;
    const provider = new Provider(issuer, {
      clients: clients.map(({ client_id, client_secret }) => ({
        client_id, client_secret, grant_types: ["client_credentials"], response_types: [], redirect_uris: [],
      })),
      jwks: { keys },
      cookies: { keys: [randomUUID()] },
      ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx, _client, oneOf) => oneOf,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx, resource, client) => {
            if (!resource.startsWith("https://")) throw new errors.InvalidTarget();
            return {
              audience: resource,
              scope: "models",
              accessTokenFormat: "jwt",
              accessTokenTTL: byId.get(client.clientId)?.ttl ?? 600,
              jwt: { sign: { alg: "RS256", kid: signingKid } },
            };
          },
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const roles = byId.get(token.clientId)?.roles;
        return roles ? { roles } : undefined;
      },
    });
    handler = provider.callback();
  };
  build();
  let jwksFetches = 0;
  server.on("request", (req, res) => {
    if (req.url === "/jwks") jwksFetches += 1;
    handler(req, res);
  });

  const stop = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  let discovery;
  try {
    discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    if (discovery.jwks_uri !== `${issuer}/jwks` || !discovery.token_endpoint) {
      throw new Error(`unexpected discovery document: ${JSON.stringify(discovery)}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    issuer,
    jwksUri: discovery.jwks_uri,
    // How many times the JWKS was fetched.
    jwksFetches: () => jwksFetches,
    // The kid the provider signs with now, and that private key (a JWK).
    currentKid: () => keys[0].kid,
    currentJwk: () => keys[0],
    // Signs with a new key from now on; the JWKS lists the new key and the old ones.
    rotate() {
      keys = [newSigningJwk(), ...keys];
      build();
      return keys[0].kid;
    },
    // An access token (the compact JWT) from the client_credentials grant.
    async token(clientId, resource) {
      const client = byId.get(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      const response = await fetch(discovery.token_endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${clientId}:${client.client_secret}`).toString("base64")}`,
        },
        body: new URLSearchParams({ grant_type: "client_credentials", resource, scope: "models" }),
      });
      const body = await response.json();
      if (response.status !== 200 || typeof body.access_token !== "string") {
        throw new Error(`token request for ${clientId} failed: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    stop,
  };
}

// A compact RS256 JWT of `header` and `payload` signed with `jwk` (a private RSA JWK).
export function signJwt(header, payload, jwk) {
  const encode = (part) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = sign("sha256", Buffer.from(input), createPrivateKey({ key: jwk, format: "jwk" }));
  return `${input}.${signature.toString("base64url")}`;
}

// The decoded header and payload of a compact JWT (no verification).
export function decodeJwt(token) {
  const [header, payload] = token.split(".").slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")));
  return { header, payload };
}
