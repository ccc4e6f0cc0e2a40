package lumina

import "encoding/json"

type embeddingsRequest struct {
	Model          string `json:"model"`
	EncodingFormat string `json:"encoding_format"`
	Dimensions     *int64 `json:"dimensions"`
}

// embeddingsExchange reads OpenAI Embeddings. The response's vectors are never kept: only the
// tail of the body, where model and usage are, is parsed.
type embeddingsExchange struct{}

func (embeddingsExchange) request(c *call, body []byte) {
	var r embeddingsRequest
	if json.Unmarshal(body, &r) != nil {
		return
	}
	c.str(keyRequestModel, r.Model)
	if r.EncodingFormat != "" {
		c.attrs = append(c.attrs, stringSlice(keyEncodingFormats, []string{r.EncodingFormat}))
	}
	if r.Dimensions != nil {
		c.int(keyDimensions, *r.Dimensions)
	}
}

func (x embeddingsExchange) response(c *call, body []byte) { x.tail(c, body) }

func (embeddingsExchange) tail(c *call, tail []byte) {
	var model string
	if json.Unmarshal(tailValue(tail, "model"), &model) == nil {
		c.str(keyResponseModel, model)
	}
	var u struct {
		PromptTokens int64 `json:"prompt_tokens"`
	}
	if v := tailValue(tail, "usage"); v != nil && json.Unmarshal(v, &u) == nil {
		c.usage = usage{input: u.PromptTokens, has: true}
	}
}

func (embeddingsExchange) event(*call, string, []byte) bool { return false }

func (embeddingsExchange) finish(*call) {}
