package impossiblecloud

import "github.com/trellis-cloud/trellis/internal/httpapi/decode"

// wire decodes the dialect's request bodies: strict JSON (each field its
// JSON type only, a null refused where a value is expected), camelCase
// names as the vendor's spec writes them, numbers exact.
var wire = decode.Rules{}
