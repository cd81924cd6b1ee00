import { describe, expect, it } from 'vitest';
import { checkJson, checkXml } from './spec-shapes.ts';

const DECL = '<?xml version="1.0" encoding="utf-8"?>\n';

// The examples of the GeoReport v2 specification (http://wiki.open311.org/GeoReport_v2/), indented as published.
const SPEC_SERVICES_XML = `${DECL}<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
</services>`;

const SPEC_DEFINITION_XML = `${DECL}<service_definition>
    <service_code>DMV66</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>WHISHETN</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>What is the ticket/tag/DL number?</description>
            <values>
                <value><key>123</key><name>Ford</name></value>
                <value><key>124</key><name>Chrysler</name></value>
            </values>
        </attribute>
    </attributes>
</service_definition>`;

const SPEC_REQUESTS_XML = `${DECL}<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <address_id>545483</address_id>
        <zipcode>94122</zipcode>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
        <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
    </request>
</service_requests>`;

const SPEC_POSTED_XML = `${DECL}<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
        <service_notice>The City will inspect and require the responsible party to correct within 24 hours.</service_notice>
        <account_id/>
    </request>
</service_requests>`;

const SPEC_ERRORS_XML = `${DECL}<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>`;

describe('Spec shapes: the checker itself', () => {
  it("should accept the specification's own XML examples", () => {
    expect(checkXml('services', SPEC_SERVICES_XML)[0]).toMatchObject({ service_code: '001', metadata: true });
    expect(checkXml('serviceDefinition', SPEC_DEFINITION_XML).attributes[0].values).toHaveLength(2);
    expect(checkXml('requests', SPEC_REQUESTS_XML)[0]).toMatchObject({
      status: 'closed',
      lat: 37.762221815,
      description: null,
    });
    expect(checkXml('posted', SPEC_POSTED_XML)[0]).toMatchObject({ service_request_id: '293944', account_id: null });
    expect(checkXml('errors', SPEC_ERRORS_XML)[0]).toMatchObject({ code: 403 });
  });

  it("should accept the specification's own JSON examples", () => {
    expect(() =>
      checkJson(
        'services',
        '[{"service_code":1,"service_name":"Cans left out 24x7","description":"x","metadata":true,"type":"realtime","keywords":"lorem, ipsum, dolor","group":"sanitation"}]',
      ),
    ).not.toThrow();
    expect(() =>
      checkJson('posted', '[{"service_request_id":293944,"service_notice":"The City will inspect","account_id":null}]'),
    ).not.toThrow();
    expect(() => checkJson('tokens', '[{"service_request_id":638344,"token":12345}]')).not.toThrow();
    expect(() => checkJson('errors', '[{"code":403,"description":"Invalid api_key"}]')).not.toThrow();
  });

  it.each([
    ['a missing element', SPEC_REQUESTS_XML.replace(/<zipcode>94122<\/zipcode>/, ''), /missing <zipcode>/],
    [
      'an unknown element',
      SPEC_REQUESTS_XML.replace('<zipcode>', '<phone>138</phone><zipcode>'),
      /unknown elements phone/,
    ],
    ['a status outside open/closed', SPEC_REQUESTS_XML.replace('<status>closed', '<status>pending'), /shape/],
    ['a date that is not W3C', SPEC_REQUESTS_XML.replace('2010-04-14T06:37:38-08:00', '14/04/2010'), /shape/],
    ['a DOCTYPE', SPEC_ERRORS_XML.replace(DECL, `${DECL}<!DOCTYPE errors>`), /DOCTYPE/],
    ['another root', SPEC_ERRORS_XML.replace(/errors>/g, 'problems>'), /root must be <errors>/],
    ['no declaration', SPEC_ERRORS_XML.replace(DECL, ''), /declaration/],
    ['a non-boolean metadata', SPEC_SERVICES_XML.replace('<metadata>true', '<metadata>yes'), /not a boolean/],
  ])('should refuse an XML answer with %s', (_name, xml, message) => {
    const kind =
      xml.includes('<errors>') || xml.includes('<problems>')
        ? 'errors'
        : xml.includes('<services>')
          ? 'services'
          : 'requests';
    expect(() => checkXml(kind, xml)).toThrow(message);
  });

  it('should refuse JSON with extra or missing fields', () => {
    expect(() => checkJson('errors', '[{"code":403}]')).toThrow(/shape/);
    expect(() => checkJson('errors', '[{"code":403,"description":"x","message":"y"}]')).toThrow(/shape/);
    expect(() => checkJson('posted', '[{"service_notice":null,"account_id":null}]')).toThrow(/shape/);
  });
});
