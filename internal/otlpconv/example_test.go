package otlpconv_test

import (
	"fmt"

	"github.com/mlflowtrace/mlflowtrace-go/internal/otlpconv"
)

func ExampleAttributeValue() {
	fmt.Printf("%q\n", otlpconv.AttributeValue(`"LLM"`).GetStringValue())
	kv := otlpconv.AttributeValue(`{"a":[1,2.5,true,null]}`).GetKvlistValue().GetValues()[0]
	arr := kv.GetValue().GetArrayValue().GetValues()
	fmt.Println(kv.GetKey(), arr[0].GetIntValue(), arr[1].GetDoubleValue(), arr[2].GetBoolValue(), arr[3].GetValue() == nil)
	fmt.Printf("%q\n", otlpconv.AttributeValue(`not json`).GetStringValue())
	// Output:
	// "LLM"
	// a 1 2.5 true true
	// "not json"
}
