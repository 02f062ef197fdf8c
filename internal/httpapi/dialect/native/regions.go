package native

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// region is where clients reach the object storage.
type region struct {
	Name      string    `json:"name" example:"eu-central-2"`
	S3URL     string    `json:"s3Url" example:"https://eu-central-2.storage.example.com"`
	IAMURL    string    `json:"iamUrl"`
	STSURL    string    `json:"stsUrl"`
	CreatedAt time.Time `json:"createdAt"`
}

func regionFrom(r objstore.Region) region {
	return region{Name: r.Name, S3URL: r.S3URL, IAMURL: r.IAMURL, STSURL: r.STSURL, CreatedAt: r.CreatedAt.UTC()}
}

type regionList struct {
	Items []region `json:"items"`
}

type putRegionInput struct {
	Name string `path:"name" minLength:"1" maxLength:"63" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"Letters, digits, '-', '_' and '.', starting with a letter or digit." example:"eu-central-2"`
	Body struct {
		S3URL  string `json:"s3Url" format:"uri" maxLength:"2000" doc:"An absolute http(s) URL." example:"https://eu-central-2.storage.example.com"`
		IAMURL string `json:"iamUrl" format:"uri" maxLength:"2000" doc:"An absolute http(s) URL."`
		STSURL string `json:"stsUrl" format:"uri" maxLength:"2000" doc:"An absolute http(s) URL."`
	}
}

type regionNameParam struct {
	Name string `path:"name" minLength:"1" maxLength:"63" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$"`
}

func (s *server) registerRegions(api huma.API) {
	register(api, huma.Operation{OperationID: "listRegions", Method: http.MethodGet, Path: "/regions",
		Summary: "List the regions"}, s.listRegions)
	register(api, huma.Operation{OperationID: "putRegion", Method: http.MethodPut, Path: "/regions/{name}",
		Summary: "Create or replace a region (provider admins)"}, s.putRegion)
	register(api, huma.Operation{OperationID: "deleteRegion", Method: http.MethodDelete, Path: "/regions/{name}",
		Summary: "Delete a region (provider admins)"}, s.deleteRegion)
}

func (s *server) listRegions(ctx context.Context, _ *struct{}) (*output[regionList], error) {
	return call(ctx, s, func(actor.Actor) ([]objstore.Region, error) {
		return s.d.Objstore.Regions(ctx)
	}, func(rs []objstore.Region) regionList { return regionList{Items: wire.Map(rs, regionFrom)} })
}

func (s *server) putRegion(ctx context.Context, in *putRegionInput) (*output[region], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (objstore.Region, error) {
		r, err := s.d.Objstore.PutRegion(ctx, a, objstore.PutRegionInput{Name: in.Name, S3URL: b.S3URL, IAMURL: b.IAMURL, STSURL: b.STSURL})
		return r, renameRegionField(err)
	}, regionFrom)
}

// renameRegionField gives the URL fields the names this API uses: objstore
// names them as the Impossible Cloud dialect does (s3_url, ...).
func renameRegionField(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	names := map[string]string{"s3_url": "s3Url", "iam_url": "iamUrl", "sts_url": "stsUrl"}
	if n, ok := names[e.Field]; ok {
		renamed := *e
		renamed.Field = n
		return &renamed
	}
	return err
}

func (s *server) deleteRegion(ctx context.Context, in *regionNameParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Objstore.DeleteRegion(ctx, a, in.Name) })
}
