package impossiblecloud

// Regenerate openapi.json from the vendor Swagger document, then the icapi
// package from openapi.json. Run from this directory: go generate ./...
//go:generate go run ./specgen
//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.json
